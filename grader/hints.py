"""Hints from known mistakes: an assignment's mutants are its catalogue of them.

Each ``[[mutants]]`` entry names a mistake (``why``, in the course's words) and
the checks it fails (``fails``). A grading matches a mutant when

1. every check the mutant fails fails here too, as a mistake fails: a wrong
   answer, a time-out or the memory limit (not code that raised, as the
   starter's stubs do, nor a check that did not run, nor a fault of ours);
2. the other checks of the same functions pass here, as they do for the
   mutant: the function is right except for this mistake, not broken
   altogether;
3. a mutant whose failures lie only in checks across several functions
   (``kinks``) is named only when every such check that fails here is one a
   named mistake explains: a submission wrong everywhere matches nothing;
4. of two matches, one whose checks are a strict part of the other's is left
   out: the larger mistake explains them;
5. some check passes, unless the mutant fails every check (an assignment of
   one check): a submission with nothing right matches no one mistake.

Mutants whose ``hint`` is "" (forgeries, attacks) are no mistakes to hint at.
Several mutants that fail the same checks (on a training check: a loss, a
rate, a step that does nothing) are named together, as the likely causes.

The hint goes on each failing check the mutant fails. ``dlgrade assignment
validate`` proves each mutant receives its own hint, and the solution and the
examples none.
"""

from __future__ import annotations

from dataclasses import replace

from grader.assignment import Assignment, Mutant
from grader.messages import CheckResult, CheckStatus

# How a known mistake fails a check: by its values or its cost, never by raising.
_AS_A_MISTAKE = (CheckStatus.FAILED, CheckStatus.TIMEOUT, CheckStatus.MEMORY)


def _why(mutant: Mutant) -> str:
    return " ".join(mutant.why.split()).rstrip(".") or f"the mistake of {mutant.file}"


def hint_text(mutant: Mutant) -> str:
    """What a student reads for a known mistake: its ``hint``, else its ``why``."""
    if mutant.hint is not None:
        return mutant.hint
    return f"These failures match a known mistake: {_why(mutant)}."


def _together(mutants: list[Mutant]) -> str:
    if len(mutants) == 1:
        return hint_text(mutants[0])
    said = [m.hint for m in mutants if m.hint is not None]
    known = "; ".join(_why(m) for m in mutants if m.hint is None)
    parts = [f"These failures match one of these known mistakes: {known}."] if known else []
    return " ".join(parts + said)


def matching(assignment: Assignment, checks: tuple[CheckResult, ...]) -> list[Mutant]:
    """The mutants whose signature these results match (rules 1-4 above)."""
    by_name = {c.name: c for c in checks}
    if any(c.not_run for c in checks):
        return []
    anything_right = any(c.status == CheckStatus.PASSED for c in checks)
    failing = {c.name for c in checks if c.status in _AS_A_MISTAKE}
    found: list[Mutant] = []
    for m in assignment.mutants:
        fails = set(m.fails)
        if hint_text(m) == "" or not fails or not fails <= failing:
            continue
        if not anything_right and fails != set(by_name):
            continue
        functions = {by_name[n].function for n in fails if n in by_name} - {""}
        related = {c.name for c in checks if c.function in functions} - fails
        if any(by_name[n].status != CheckStatus.PASSED for n in related):
            continue
        found.append(m)
    found = [m for m in found if not any(set(m.fails) < set(o.fails) for o in found)]
    explained = set().union(*(set(m.fails) for m in found)) if found else set()
    across = {c.name for c in checks if c.status != CheckStatus.PASSED and not c.function}
    unexplained = across - explained
    return [
        m
        for m in found
        if not unexplained or any(by_name[n].function for n in m.fails if n in by_name)
    ]


def with_hints(assignment: Assignment, checks: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    """``checks`` with each matched mistake's hint on the failing checks it explains."""
    hints: dict[str, list[Mutant]] = {}
    for m in matching(assignment, checks):
        for name in m.fails:
            hints.setdefault(name, []).append(m)
    return tuple(
        replace(c, hint=_together(hints[c.name])) if c.name in hints else c for c in checks
    )


def received(mutant: Mutant, checks: tuple[CheckResult, ...]) -> bool:
    """Whether a report's checks carry ``mutant``'s hint (alone, or named with others)."""
    own = mutant.hint if mutant.hint is not None else _why(mutant)
    return any(own in c.hint for c in checks if c.name in mutant.fails)
