"""What the sandbox may send back: every field of a reply, its type and its size.

The runner shares a process with the student's code, so each reply is hostile
data, however well formed its frame: a submission can replace the runner's
functions, rewrite its encoder or write frames of its own. The codec already
guarantees plain data of bounded size; this module checks that data against
the protocol's schema on the trusted side before anything reads it:

    reply   {"id": int, "ok": bool, "value": any (ok), "error": error (not ok),
             "rss_kb": int in [0, MAX_RSS_KB] or None}
    error   {"type": str, "message": str, "traceback": list[str]}
    load    {"global": str | None, "handle": handle | None, "names": list[str],
             "versions": {str: str}, "error": error | None (a script that raised)}
    handle  int in [0, MAX_HANDLE]  (the value of a "new" request, and of a load)
    sample  {"id": int, "where": list[str]}  (sent while a request runs: where the
             student's code is; the trusted side keeps the latest, to say where a
             call that ran out of time was stopped)
    watched {"value": any, "changed": list[str]}  (a "watched" call: the arguments it
             changed in place, by position "0", "1", ... or keyword; at most MAX_WATCHED)

A reply that breaks the schema raises ``ProtocolViolation``, whose message is
written for the student: such a reply can only come from code that tampered
with the runner or its channel, so it is a verdict on the submission, never a
platform error. Text (messages, traceback lines, versions, a global's name) is
clipped to fixed sizes rather than refused, because an honest runner forwards
what the student's code produced: a 20 MiB source line shows up in a
SyntaxError's traceback without any tampering.

``check_reply`` is total: for any decoded value it returns a ``Reply`` or
raises ``ProtocolViolation``, nothing else (tests/grader/test_replies.py and
bench/fuzz_replies.py fuzz it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.messages import CheckStatus, clip

MAX_ID = 2**63 - 1
MAX_HANDLE = 2**63 - 1
# ru_maxrss in KiB: a petabyte is far beyond any machine, far below a float's range.
MAX_RSS_KB = 1 << 40

TYPE_CHARS = 100
MESSAGE_CHARS = 2000
TRACEBACK_LINES = 40
TRACEBACK_LINE_CHARS = 300
TRACEBACK_CHARS = 6000
GLOBAL_CHARS = 200
VERSION_ENTRIES = 16
VERSION_KEY_CHARS = 40
VERSION_CHARS = 100
# Names of the submission's public callables: a module with `from numpy import *`
# has about 600; a longer name than this cannot be one a check asks for.
MAX_NAMES = 20_000
NAME_CHARS = 1000

SAMPLE_KEYS = frozenset({"id", "where"})
SAMPLE_LINES = 16

REPLY_KEYS = frozenset({"id", "ok", "value", "error", "rss_kb"})
ERROR_KEYS = frozenset({"type", "message", "traceback"})
LOAD_KEYS = frozenset({"global", "handle", "names", "versions", "error"})
WATCHED_KEYS = frozenset({"value", "changed"})
# A check names a handful of arguments; a keyword longer than this is none of them.
MAX_WATCHED = 64

_TAMPERED = "(did your code change the grader's runner, or write to its channel?)"


class ProtocolViolation(Exception):
    """A reply the runner would never send: the submission's fault, said plainly."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the submission's process sent a malformed reply: {what} {_TAMPERED}")


class StaleReply(ProtocolViolation):
    """A well-formed reply to a request that was not the one asked (a forged or unasked frame)."""

    def __init__(self) -> None:
        Exception.__init__(self, "the submission's process wrote into the grader's channel")


@dataclass(frozen=True)
class ErrorReport:
    """The student's exception, as the runner describes it, clipped to fixed sizes."""

    type: str
    message: str
    traceback: tuple[str, ...]

    @property
    def status(self) -> CheckStatus:
        return CheckStatus.MEMORY if self.type == "MemoryError" else CheckStatus.ERROR

    @property
    def text(self) -> str:
        text = f"{self.type}: {self.message}" if self.message else self.type
        if self.traceback:
            text += "\n" + "\n".join(self.traceback)
        return text


@dataclass(frozen=True)
class Loaded:
    """What a load reports: the network a script left in a global, the public names, versions."""

    global_name: str | None
    handle: int | None
    names: tuple[str, ...]
    versions: dict[str, str]
    # What a script raised after defining what it could (script mode keeps its namespace).
    error: ErrorReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """The shape the check API reads (``Student.trained``, ``Student.names``)."""
        out: dict[str, Any] = {
            "global": self.global_name,
            "handle": self.handle,
            "names": list(self.names),
            "versions": dict(self.versions),
        }
        if self.error is not None:
            e = self.error
            out["error"] = {"type": e.type, "message": e.message, "traceback": list(e.traceback)}
        return out


@dataclass(frozen=True)
class Reply:
    id: int
    ok: bool
    value: Any
    error: ErrorReport | None
    rss_kb: int | None


def _kind(value: object) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _is_int(value: object) -> bool:
    # The codec gives exact ints; bool is an int subclass, and never a valid id or size.
    return type(value) is int


def _fields(value: object, allowed: frozenset[str], what: str) -> dict:
    if type(value) is not dict:
        raise ProtocolViolation(f"{what} has type {_kind(value)}, not dict")
    extra = [k for k in value if k not in allowed]
    if extra:
        shown = ", ".join(repr(k[:40]) if type(k) is str else clip(repr(k), 40) for k in extra[:3])
        raise ProtocolViolation(f"{what} has unknown field(s) {shown}")
    return value


def _text(value: object, what: str, limit: int) -> str:
    if type(value) is not str:
        raise ProtocolViolation(f"{what} has type {_kind(value)}, not str")
    return clip(value, limit)


def _bounded_int(value: object, what: str, high: int) -> int:
    if not _is_int(value):
        raise ProtocolViolation(f"{what} has type {_kind(value)}, not int")
    if not 0 <= value <= high:
        raise ProtocolViolation(f"{what} is out of range (an int with {value.bit_length()} bits)")
    return value


def check_error(value: object) -> ErrorReport:
    """An error description: type and message as text, traceback a list of text lines."""
    error = _fields(value, ERROR_KEYS, "the error description")
    etype = _text(error.get("type", "Exception"), "the error's type", TYPE_CHARS) or "Exception"
    message = _text(error.get("message", ""), "the error's message", MESSAGE_CHARS)
    tb = error.get("traceback", [])
    if type(tb) not in (list, tuple):
        raise ProtocolViolation(f"the error's traceback has type {_kind(tb)}, not list")
    lines = [_text(x, "a traceback line", TRACEBACK_LINE_CHARS) for x in tb[-TRACEBACK_LINES:]]
    if len(tb) > TRACEBACK_LINES:
        # Still check the lines left out: a list that is not all text is malformed.
        for x in tb[:-TRACEBACK_LINES]:
            if type(x) is not str:
                raise ProtocolViolation(f"a traceback line has type {_kind(x)}, not str")
    # The last lines say where it failed: over the total, drop from the top.
    kept: list[str] = []
    room = TRACEBACK_CHARS
    for line in reversed(lines):
        room -= len(line) + 1
        if room < 0:
            kept.append(f"[{len(lines) - len(kept)} earlier traceback line(s) left out]")
            break
        kept.append(line)
    return ErrorReport(etype, message, tuple(reversed(kept)))


def check_handle(value: object, what: str = "the object handle") -> int:
    return _bounded_int(value, what, MAX_HANDLE)


def check_loaded(value: object) -> Loaded:
    """The value of a load: validated field by field (the engine shows versions in the report)."""
    loaded = _fields(value, LOAD_KEYS, "the load result")
    global_name = loaded.get("global")
    if global_name is not None:
        global_name = _text(global_name, "the network's global name", GLOBAL_CHARS)
    handle = loaded.get("handle")
    if handle is not None:
        handle = check_handle(handle, "the network's object handle")
    names = loaded.get("names", [])
    if type(names) is not list:
        raise ProtocolViolation(f"the list of names has type {_kind(names)}, not list")
    if len(names) > MAX_NAMES:
        raise ProtocolViolation(f"the list of names holds {len(names)} (limit {MAX_NAMES})")
    for name in names:
        if type(name) is not str:
            raise ProtocolViolation(f"a name has type {_kind(name)}, not str")
        if len(name) > NAME_CHARS:
            raise ProtocolViolation(f"a name of {len(name)} characters (limit {NAME_CHARS})")
    versions = loaded.get("versions", {})
    if type(versions) is not dict:
        raise ProtocolViolation(f"the versions have type {_kind(versions)}, not dict")
    if len(versions) > VERSION_ENTRIES:
        raise ProtocolViolation(f"{len(versions)} versions (limit {VERSION_ENTRIES})")
    checked: dict[str, str] = {}
    for key, version in versions.items():
        key = _text(key, "a version's name", VERSION_KEY_CHARS)
        checked[key] = _text(version, f"the version of {key!r}", VERSION_CHARS)
    error = check_error(loaded["error"]) if loaded.get("error") is not None else None
    return Loaded(global_name, handle, tuple(names), checked, error)


@dataclass(frozen=True)
class Watched:
    """A watched call's answer, and the arguments the call changed in place."""

    value: Any
    changed: tuple[str, ...]


def check_watched(value: object) -> Watched:
    """The value of a "watched" call: the answer (plain data) and a short list of names."""
    watched = _fields(value, WATCHED_KEYS, "the watched call's result")
    if "value" not in watched or "changed" not in watched:
        raise ProtocolViolation("the watched call's result lacks 'value' or 'changed'")
    changed = watched["changed"]
    if type(changed) is not list:
        raise ProtocolViolation(f"the changed arguments have type {_kind(changed)}, not list")
    if len(changed) > MAX_WATCHED:
        raise ProtocolViolation(f"{len(changed)} changed arguments (limit {MAX_WATCHED})")
    for name in changed:
        if type(name) is not str:
            raise ProtocolViolation(f"a changed argument's name has type {_kind(name)}, not str")
        if len(name) > NAME_CHARS:
            raise ProtocolViolation(f"a changed argument's name of {len(name)} characters")
    return Watched(watched["value"], tuple(changed))


def check_value(op: str, value: object) -> Any:
    """The value of a successful reply, by request: loads, handles and watched calls have a
    schema."""
    if op == "load":
        return check_loaded(value).to_dict()
    if op == "watched":
        return check_watched(value)
    if op == "new":
        return check_handle(value)
    # Answers are plain data (the codec saw to that), judged by the checks themselves.
    return value


def check_reply(raw: object, expected_id: int, op: str) -> Reply:
    """Validate one decoded reply to request ``expected_id`` (of kind ``op``)."""
    reply = _fields(raw, REPLY_KEYS, "the reply")
    if "id" not in reply:
        raise ProtocolViolation("the reply has no id")
    rid = reply["id"]
    if not _is_int(rid):
        raise ProtocolViolation(f"the reply's id has type {_kind(rid)}, not int")
    if rid != expected_id:
        raise StaleReply()
    ok = reply.get("ok")
    if type(ok) is not bool:
        raise ProtocolViolation(f"the reply's 'ok' has type {_kind(ok)}, not bool")
    rss = reply.get("rss_kb")
    if rss is not None:
        rss = _bounded_int(rss, "the reply's memory figure (rss_kb)", MAX_RSS_KB)
    if ok:
        if "error" in reply:
            raise ProtocolViolation("a successful reply carries an error")
        if "value" not in reply:
            raise ProtocolViolation("a successful reply carries no value")
        return Reply(rid, True, check_value(op, reply["value"]), None, rss)
    if "value" in reply:
        raise ProtocolViolation("a failed call's reply carries a value")
    if "error" not in reply:
        raise ProtocolViolation("a failed call's reply carries no error description")
    return Reply(rid, False, None, check_error(reply["error"]), rss)


def is_sample(raw: object) -> bool:
    """Whether a frame is a stack sample rather than a reply (replies have no "where")."""
    return type(raw) is dict and "where" in raw


def check_sample(raw: object) -> tuple[int, tuple[str, ...]] | None:
    """A stack sample's request id and lines, clipped; None when it is malformed.

    Malformed samples are dropped rather than charged: a sample is only ever shown
    (in a time-out's message), so dropping one loses nothing and judges nothing.
    """
    if type(raw) is not dict or set(raw) != SAMPLE_KEYS:
        return None
    rid, where = raw["id"], raw["where"]
    if not _is_int(rid) or type(where) is not list or not all(type(x) is str for x in where):
        return None
    lines = [clip(x, TRACEBACK_LINE_CHARS) for x in where[-SAMPLE_LINES:]]
    return rid, tuple(lines)
