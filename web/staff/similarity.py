"""Which submissions of an assignment look copied from one another, and why.

The method is MOSS's (Schleimer, Wilkerson and Aiken, "Winnowing", SIGMOD 2003)
applied to an AST rather than to characters:

1. Each Python file is parsed and flattened into a token stream of node kinds
   in source order. Every identifier (variables, parameters, functions, classes,
   imported aliases) becomes one placeholder and every string one placeholder,
   so renaming ``x`` to ``inputs`` or rewording comments and docstrings changes
   nothing; attribute names (``np.maximum``) and numbers are kept, because a
   student cannot rename NumPy. A file that does not parse falls back to its
   lexical tokens, names normalised the same way.
2. Every run of ``K`` consecutive tokens (a k-gram) is hashed; a window of ``W``
   consecutive hashes keeps its minimum (winnowing). Any shared stretch of at
   least ``W + K - 1`` tokens is then guaranteed to share a fingerprint, while
   a submission keeps only about ``2 / (W + 1)`` of its hashes.
3. Fingerprints of the starter code, and those found in more than a share of
   the class (code the notes dictate), are removed before comparing: matching
   what everybody was given proves nothing.
4. A pair's similarity is the share of fingerprints they have in common
   (Dice: twice the shared ones over both sides' totals); each shared
   fingerprint maps back to the lines it covers on both sides, merged into
   fragments that the side-by-side view highlights (the reasons).
"""

from __future__ import annotations

import ast
import hashlib
import io
import keyword
import tokenize
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

# Tokens per k-gram: an AST statement such as ``y = np.maximum(0, x)`` is about 10
# tokens, so a fingerprint spans one or two statements; shorter grams match idioms
# every student writes (``return x``), longer ones miss copies with one line changed.
K = 12
# Window: any shared run of W + K - 1 = 19 tokens (two or three statements) is found.
W = 8
# A fingerprint present in more than this share of the submissions is the class's
# common code (the notes' formula, a dictated signature), not evidence of copying.
COMMON_SHARE = 0.5
# ... but only with enough submissions for a share to mean anything.
COMMON_MIN_SUBMISSIONS = 6

NAME = "ID"
STRING = "STR"


@dataclass(frozen=True)
class Token:
    kind: str
    file: str
    line: int


@dataclass(frozen=True)
class Fingerprint:
    hash: int
    start: int  # index of the k-gram's first token
    file: str
    first_line: int
    last_line: int


@dataclass(frozen=True)
class Fragment:
    """Lines of one side that match lines of the other (inclusive, 1-based)."""

    file_a: str
    a_start: int
    a_end: int
    file_b: str
    b_start: int
    b_end: int


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float  # Dice over fingerprints, 0..1
    share_a: float  # of a's fingerprints, the share found in b
    share_b: float
    shared: int
    fragments: tuple[Fragment, ...] = ()


@dataclass
class Document:
    """One submission's fingerprints (the starter and the class's common code removed)."""

    key: str
    tokens: list[Token] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)

    @property
    def hashes(self) -> set[int]:
        return {f.hash for f in self.fingerprints}


# -- tokens ---------------------------------------------------------------------------


class _Flatten(ast.NodeVisitor):
    """Node kinds in source order, identifiers and strings replaced by placeholders."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.out: list[Token] = []
        self.line = 1

    def emit(self, kind: str, node: ast.AST | None = None) -> None:
        line = getattr(node, "lineno", None)
        if line is not None:
            self.line = line
        self.out.append(Token(kind, self.file, self.line))

    def generic_visit(self, node: ast.AST) -> None:
        value = getattr(node, "value", None)
        is_text = isinstance(value, ast.Constant) and isinstance(value.value, str)
        if isinstance(node, ast.Expr) and is_text:
            return  # a docstring or a bare string: commentary, not code
        if isinstance(node, ast.Name | ast.arg):
            self.emit(NAME, node)
            return
        if isinstance(node, ast.Constant):
            value = node.value
            kind = STRING if isinstance(value, str | bytes) else f"C:{value!r}"[:40]
            self.emit(kind, node)
            return
        if isinstance(node, ast.Attribute):
            self.visit(node.value)
            self.emit(f".{node.attr}", node)
            return
        if isinstance(node, ast.alias):
            # ``import numpy as np``: the module is kept, the local name is not.
            self.emit(f"import:{node.name}", node)
            return
        if isinstance(node, ast.expr_context):
            return
        self.emit(type(node).__name__, node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.emit(NAME, node)  # the defined name, normalised like any other
        for child in ast.iter_child_nodes(node):
            self.visit(child)


def _lexical_tokens(source: str, file: str) -> list[Token]:
    """For a file that does not parse: its tokens, names and strings normalised."""
    out: list[Token] = []

    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
                continue
            if tok.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                kind = NAME
            elif tok.type == tokenize.STRING:
                kind = STRING
            else:
                kind = tok.string
            out.append(Token(kind, file, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was read before the damage
    return out


def tokens_of(source: str, file: str = "") -> list[Token]:
    """The normalised token stream of one Python file."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return _lexical_tokens(source, file)
    flat = _Flatten(file)
    for stmt in tree.body:
        flat.visit(stmt)
    return flat.out


# -- fingerprints ---------------------------------------------------------------------


def _hash(kinds: Iterable[str]) -> int:
    # Stable across processes (Python's own hash() is salted per process).
    digest = hashlib.blake2b("\x1f".join(kinds).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def winnow(tokens: list[Token], k: int = K, w: int = W) -> list[Fingerprint]:
    """The winnowed fingerprints of a token stream (k-grams never span two files)."""
    grams: list[tuple[int, int]] = []  # (hash, start)
    for i in range(len(tokens) - k + 1):
        if tokens[i].file != tokens[i + k - 1].file:
            continue
        grams.append((_hash(t.kind for t in tokens[i : i + k]), i))
    if not grams:
        return []
    chosen: dict[int, tuple[int, int]] = {}
    # A file shorter than one window still keeps its one minimum.
    windows = [grams[i : i + w] for i in range(max(1, len(grams) - w + 1))]
    for window in windows:
        # The rightmost minimum, as the paper says: a run of equal hashes keeps one.
        low = min(h for h, _ in window)
        h, start = next(g for g in reversed(window) if g[0] == low)
        chosen[start] = (h, start)
    out = []
    for h, start in sorted(chosen.values(), key=lambda g: g[1]):
        first, last = tokens[start], tokens[start + k - 1]
        out.append(Fingerprint(h, start, first.file, first.line, last.line))
    return out


def document(key: str, files: Mapping[str, str]) -> Document:
    """A submission (file name -> source) as a Document, its files in name order."""
    tokens: list[Token] = []
    for name in sorted(files):
        if name.endswith(".py"):
            tokens += tokens_of(files[name], name)
    return Document(key, tokens, winnow(tokens))


# -- comparing ------------------------------------------------------------------------


def _fragments(a: Document, b: Document, shared: set[int]) -> tuple[Fragment, ...]:
    """The lines behind the shared fingerprints, runs on both sides merged into one."""
    first_in_b: dict[int, Fingerprint] = {}
    for f in b.fingerprints:
        first_in_b.setdefault(f.hash, f)
    spans: list[list] = []
    for fa in a.fingerprints:
        if fa.hash not in shared:
            continue
        fb = first_in_b[fa.hash]
        last = spans[-1] if spans else None
        if (
            last is not None
            and last[0] == fa.file
            and last[3] == fb.file
            and fa.first_line <= last[2] + 1
            and last[4] - 1 <= fb.first_line <= last[5] + 1
        ):
            last[2] = max(last[2], fa.last_line)
            last[5] = max(last[5], fb.last_line)
            continue
        spans.append([fa.file, fa.first_line, fa.last_line, fb.file, fb.first_line, fb.last_line])
    return tuple(Fragment(*s) for s in spans)


def remove_common(
    docs: list[Document],
    starter: Document | None,
    common_share: float = COMMON_SHARE,
    common_min: int = COMMON_MIN_SUBMISSIONS,
) -> set[int]:
    """Drop the starter's fingerprints and the class's common ones; return what was dropped."""
    drop = set(starter.hashes) if starter is not None else set()
    if len(docs) >= common_min:
        seen: dict[int, int] = defaultdict(int)
        for d in docs:
            for h in d.hashes:
                seen[h] += 1
        drop |= {h for h, n in seen.items() if n > common_share * len(docs)}
    for d in docs:
        d.fingerprints = [f for f in d.fingerprints if f.hash not in drop]
    return drop


def compare(a: Document, b: Document, *, fragments: bool = True) -> Pair:
    ha, hb = a.hashes, b.hashes
    shared = ha & hb
    total = len(ha) + len(hb)
    return Pair(
        a.key,
        b.key,
        similarity=2 * len(shared) / total if total else 0.0,
        share_a=len(shared) / len(ha) if ha else 0.0,
        share_b=len(shared) / len(hb) if hb else 0.0,
        shared=len(shared),
        fragments=_fragments(a, b, shared) if fragments else (),
    )


def rank_pairs(
    submissions: Mapping[str, Mapping[str, str]],
    starter: Mapping[str, str] | None = None,
    *,
    limit: int = 50,
    minimum: float = 0.0,
    common_share: float = COMMON_SHARE,
) -> list[Pair]:
    """The most similar pairs among ``submissions`` (key -> {file name: source}), best first.

    Only pairs sharing at least one fingerprint are scored (an inverted index
    finds them: a class of 300 has 44,850 pairs), by counting shared
    fingerprints per pair; the fragments (the reasons) are worked out for the
    ``limit`` best pairs only.
    """
    docs = [document(key, files) for key, files in submissions.items()]
    base = document("starter", starter) if starter else None
    remove_common(docs, base, common_share)
    by_hash: dict[int, list[int]] = defaultdict(list)
    sizes = []
    for i, d in enumerate(docs):
        hashes = d.hashes
        sizes.append(len(hashes))
        for h in hashes:
            by_hash[h].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in by_hash.values():
        shared.update(combinations(holders, 2))
    scored = []
    for (i, j), n in shared.items():
        similarity = 2 * n / (sizes[i] + sizes[j])
        if similarity >= minimum:
            scored.append((-similarity, -n, docs[i].key, docs[j].key, i, j))
    scored.sort()
    return [compare(docs[i], docs[j]) for *_, i, j in scored[:limit]]
