"""What comes back from the sandbox: the reply schema, the report's bounds, and a fuzz of both.

The runner shares a process with the student's code, so the trusted side
checks every reply it reads (grader/replies.py). The fuzz tests drive the
whole reading path of the trusted side, bytes -> frame -> plain data -> checked
reply -> report, over random bytes, random replies and mutated honest frames:
the only outcomes allowed are a reply the engine can use or the submission's
fault (malformed data, a protocol violation), never another exception, never
a platform error, and the report built from it is always strict JSON within
its size bound. bench/fuzz_replies.py runs the same path over 10**6 inputs.
"""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader import codec, replies
from grader.messages import (
    CheckResult,
    CheckStatus,
    GradeReport,
    ReportStatus,
    bounded,
    finite,
    report_json,
)
from grader.replies import ProtocolViolation, StaleReply, check_reply
from grader.session import RESPONSE_MAX_BYTES

ID = 7
# The bounds of issue 7, written here rather than read from the code they judge.
REPORT_MAX_BYTES = 1_000_000
ERROR_TEXT_MAX_CHARS = 10_000
VIOLATION_MAX_CHARS = 1_000
TAMPERED = " (did your code change the grader's runner, or write to its channel?)"
OPS = ["load", "new", "call", "watched", "get", "set", "drop", "arrays", "epoch"]


def strict_json(text: str) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: the bare token {token}")

    return json.loads(text, parse_constant=refuse)


# -- the schema --------------------------------------------------------------------------


def honest_load() -> dict:
    """A load reply's value as the runner builds it (Runner.loaded)."""
    return {
        "global": "net",
        "handle": 1,
        "names": ["relu", "sigmoid"],
        "versions": {"python": "3.11.2", "numpy": "2.4.6"},
    }


def honest_error(**extra: object) -> dict:
    """An error description as the runner builds it (describe())."""
    return {
        "type": "ValueError",
        "message": "bad shape",
        "traceback": ['  File "act.py", line 3, in relu', "    return x[5]"],
        **extra,
    }


def test_honest_replies_are_accepted_as_they_are() -> None:
    value = np.arange(3.0)
    ok = check_reply({"id": ID, "ok": True, "value": value, "rss_kb": 51200}, ID, "call")
    assert (ok.ok, ok.value is value, ok.error, ok.rss_kb) == (True, True, None, 51200)
    loaded = check_reply({"id": ID, "ok": True, "value": honest_load(), "rss_kb": 1}, ID, "load")
    assert loaded.value == honest_load()
    failed = check_reply({"id": ID, "ok": False, "error": honest_error(), "rss_kb": 1}, ID, "call")
    assert failed.error is not None and failed.error.status == CheckStatus.ERROR
    assert failed.error.text == (
        'ValueError: bad shape\n  File "act.py", line 3, in relu\n    return x[5]'
    )
    # A script that raised after defining what it could: its error comes with the load.
    script = check_reply(_loaded(error=honest_error(message="x" * 5000)), ID, "load")
    assert script.value["error"] == {
        "type": "ValueError",
        "message": "x" * 2000 + "[... 3000 more characters]",
        "traceback": honest_error()["traceback"],
    }
    assert "error" not in loaded.value
    memory = check_reply(
        {"id": ID, "ok": False, "error": {"type": "MemoryError", "message": "", "traceback": []}},
        ID,
        "call",
    )
    assert memory.error is not None and memory.error.status == CheckStatus.MEMORY
    assert memory.error.text == "MemoryError" and memory.rss_kb is None


def _reply(**fields: object) -> dict:
    return {"id": ID, "ok": True, "value": None, "rss_kb": 1, **fields}


def _failed(**error: object) -> dict:
    return {"id": ID, "ok": False, "error": honest_error(**error), "rss_kb": 1}


def _loaded(**fields: object) -> dict:
    return _reply(value={**honest_load(), **fields})


MALFORMED = {
    # The issue's own: a memory figure past a float's range, versions that are not text,
    # an id that is an array, a traceback that is an array.
    "huge rss_kb": (
        _reply(rss_kb=10**400),
        "call",
        "the reply's memory figure (rss_kb) is out of range (an int with 1329 bits)",
    ),
    "negative rss_kb": (_reply(rss_kb=-1), "call", "(rss_kb) is out of range"),
    "float rss_kb": (_reply(rss_kb=float("nan")), "call", "(rss_kb) has type float, not int"),
    "bytes version": (
        _loaded(versions={"python": b"3.11"}),
        "load",
        "the version of 'python' has type bytes, not str",
    ),
    "NaN version": (
        _loaded(versions={"numpy": float("nan")}),
        "load",
        "the version of 'numpy' has type float, not str",
    ),
    "array id": (
        _reply(id=np.array([ID, ID])),
        "call",
        "the reply's id has type numpy.ndarray, not int",
    ),
    "array traceback": (
        _failed(traceback=np.array([1.0, 2.0])),
        "call",
        "the error's traceback has type numpy.ndarray, not list",
    ),
    # And the rest of the schema.
    "not a dict": ([ID, True], "call", "the reply has type list, not dict"),
    "no id": ({"ok": True, "value": 1}, "call", "the reply has no id"),
    "bool id": (_reply(id=True), "call", "the reply's id has type bool, not int"),
    "unknown field": (_reply(extra=1), "call", "the reply has unknown field(s) 'extra'"),
    "array ok": (_reply(ok=np.array([True])), "call", "'ok' has type numpy.ndarray, not bool"),
    "ok with error": (_reply(error=honest_error()), "call", "a successful reply carries an error"),
    "ok without value": ({"id": ID, "ok": True}, "call", "a successful reply carries no value"),
    "failed with value": (
        {**_failed(), "value": 1},
        "call",
        "a failed call's reply carries a value",
    ),
    "failed without error": (
        {"id": ID, "ok": False},
        "call",
        "a failed call's reply carries no error description",
    ),
    "error not a dict": (
        {"id": ID, "ok": False, "error": "boom"},
        "call",
        "the error description has type str, not dict",
    ),
    "bytes error type": (_failed(type=b"ValueError"), "call", "the error's type has type bytes"),
    "None message": (_failed(message=None), "call", "the error's message has type NoneType"),
    "bytes traceback line": (
        _failed(traceback=["ok", b"line"]),
        "call",
        "a traceback line has type bytes, not str",
    ),
    "bad line left out": (
        _failed(traceback=[1.5] + ["x"] * 40),
        "call",
        "a traceback line has type float, not str",
    ),
    "float handle": (_reply(value=1.0), "new", "the object handle has type float, not int"),
    "negative handle": (_reply(value=-1), "new", "the object handle is out of range"),
    "load handle": (_loaded(handle="1"), "load", "the network's object handle has type str"),
    "load not a dict": (_reply(value=["relu"]), "load", "the load result has type list"),
    "bytes global": (_loaded(**{"global": b"net"}), "load", "the network's global name has type"),
    "names not a list": (_loaded(names="relu"), "load", "the list of names has type str"),
    "bytes name": (_loaded(names=["relu", b"x"]), "load", "a name has type bytes, not str"),
    "long name": (_loaded(names=["x" * 1001]), "load", "a name of 1001 characters (limit 1000)"),
    "many names": (_loaded(names=["f"] * 20_001), "load", "the list of names holds 20001"),
    "versions a list": (_loaded(versions=[]), "load", "the versions have type list, not dict"),
    "load error a list": (
        _loaded(error=["ValueError"]),
        "load",
        "the error description has type list, not dict",
    ),
    "many versions": (
        _loaded(versions={str(i): "1" for i in range(17)}),
        "load",
        "17 versions (limit 16)",
    ),
    "watched not a dict": (
        _reply(value=[1.0, []]),
        "watched",
        "the watched call's result has type list, not dict",
    ),
    "watched without changed": (
        _reply(value={"value": 1.0}),
        "watched",
        "the watched call's result lacks 'value' or 'changed'",
    ),
    "watched extra field": (
        _reply(value={"value": 1.0, "changed": [], "ok": True}),
        "watched",
        "the watched call's result has unknown field(s) 'ok'",
    ),
    "changed a str": (
        _reply(value={"value": 1.0, "changed": "0"}),
        "watched",
        "the changed arguments have type str, not list",
    ),
    "changed an int": (
        _reply(value={"value": 1.0, "changed": [0]}),
        "watched",
        "a changed argument's name has type int, not str",
    ),
    "changed too many": (
        _reply(value={"value": 1.0, "changed": ["0"] * 65}),
        "watched",
        "65 changed arguments (limit 64)",
    ),
}


def test_a_watched_call_brings_back_its_answer_and_the_arguments_it_changed() -> None:
    answer = np.arange(3.0)
    reply = check_reply(_reply(value={"value": answer, "changed": ["0", "config"]}), ID, "watched")
    assert isinstance(reply.value, replies.Watched)
    assert reply.value.value is answer
    assert reply.value.changed == ("0", "config")


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_replies_are_the_submissions_fault(case: str) -> None:
    raw, op, what = MALFORMED[case]
    with pytest.raises(ProtocolViolation) as err:
        check_reply(raw, ID, op)
    message = str(err.value)
    assert message.startswith("the submission's process sent a malformed reply: ")
    assert what in message and message.endswith(TAMPERED)


def test_a_reply_to_another_request_is_stale() -> None:
    with pytest.raises(StaleReply) as err:
        check_reply(_reply(id=ID + 1), ID, "call")
    assert str(err.value) == "the submission's process wrote into the grader's channel"


def test_text_from_the_sandbox_is_clipped_not_refused() -> None:
    """An honest runner forwards what the student's code produced, however long."""
    huge = "m" * (20 << 20)
    error = {
        "type": "E" * 5000,
        "message": huge,
        "traceback": [f"line {i} " + "x" * (1 << 20) for i in range(100)] + ["the last line"],
    }
    reply = check_reply({"id": ID, "ok": False, "error": error}, ID, "call")
    assert reply.error is not None
    text = reply.error.text
    assert len(text) < ERROR_TEXT_MAX_CHARS
    assert text.startswith("E" * 100 + "[... 4900 more characters]: " + "m" * 2000)
    assert f"m[... {(20 << 20) - 2000} more characters]" in text
    assert text.endswith("\nthe last line")  # where it failed survives the cut
    assert "earlier traceback line(s) left out]" in text
    loaded = check_reply(
        _loaded(versions={"numpy": "9" * 10**6}, **{"global": "n" * 10**6}), ID, "load"
    )
    assert len(loaded.value["versions"]["numpy"]) < 200
    assert len(loaded.value["global"]) < 300


def test_a_huge_duplicate_key_does_not_make_a_huge_message() -> None:
    key = "k" * (1 << 20)
    key_bytes = b"s" + len(key).to_bytes(8, "little") + key.encode()
    data = b"d" + (2).to_bytes(8, "little") + (key_bytes + b"N") * 2
    with pytest.raises(codec.CodecError) as err:
        codec.decode(data)
    assert len(str(err.value)) < 200 and "twice" in str(err.value)


# -- the report's bounds -----------------------------------------------------------------


def _report(messages: list[str], output: str = "", environment: dict | None = None) -> GradeReport:
    checks = tuple(
        CheckResult(f"check_{i}", 0.0, 1.0, CheckStatus.ERROR, m) for i, m in enumerate(messages)
    )
    return GradeReport(
        "a", 0.0, float(len(checks)), ReportStatus.GRADED, checks, "", output, environment or {}
    )


def test_reports_are_cut_to_size_whatever_their_texts() -> None:
    # Astral characters take 12 bytes each in JSON (two \\u escapes).
    messages = ["\U0001f600" * 10_000 for _ in range(45)]
    report = _report(messages, output="\x00" * 400_000)
    assert len(report_json(report)) > 5 * REPORT_MAX_BYTES
    cut = bounded(report)
    text = report_json(cut)
    assert len(text.encode()) <= REPORT_MAX_BYTES
    parsed = strict_json(text)
    assert [c["name"] for c in parsed["checks"]] == [f"check_{i}" for i in range(45)]
    assert all(c["message"] for c in parsed["checks"])  # each still says something


def test_small_reports_are_left_as_they_are() -> None:
    report = _report(["a message"], output="printed")
    assert bounded(report) is report


def test_non_finite_numbers_become_text_in_the_report() -> None:
    env = {"peak_memory_mb": float("nan"), "nested": [float("inf"), {"x": -math.inf}], "n": 1.5}
    report = _report(["m"], environment=env)
    assert finite(env) == {"peak_memory_mb": "nan", "nested": ["inf", {"x": "-inf"}], "n": 1.5}
    assert strict_json(report_json(report))["environment"] == finite(env)
    json.dumps(report.to_dict(), allow_nan=False)  # what the worker stores


# -- the fuzz ------------------------------------------------------------------------------

NUMERIC_DTYPES = ["bool", "int8", "int64", "uint16", "float16", "float32", "float64", ">f8"]
SPECIAL_INTS = [0, 1, -1, 2**31, 2**63, 2**64, 1 << 40, (1 << 40) + 1, 10**400, -(10**400)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(SPECIAL_INTS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "x" * 2500, "\U0001f600" * 400])
    | st.binary(max_size=30)
    | hnp.arrays(
        st.sampled_from(NUMERIC_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)
    )
)
keys = st.text(max_size=12) | st.integers(-5, 5) | st.sampled_from(sorted(replies.REPLY_KEYS))
plain = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(keys, inner, max_size=5)
    ),
    max_leaves=12,
)


def _maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a value of the right shape, sometimes any plain data at all."""
    return st.one_of(valid, valid, plain)


errors = st.fixed_dictionaries(
    {},
    optional={
        "type": _maybe(st.sampled_from(["ValueError", "MemoryError", "E" * 500])),
        "message": _maybe(st.text(max_size=40) | st.just("m" * 2500)),
        "traceback": _maybe(st.lists(st.text(max_size=40) | st.just("t" * 400), max_size=60)),
    },
)
loads = st.fixed_dictionaries(
    {},
    optional={
        "global": _maybe(st.none() | st.text(max_size=20)),
        "handle": _maybe(st.none() | st.integers(-3, 2**64)),
        "names": _maybe(st.lists(st.text(max_size=20), max_size=10)),
        "versions": _maybe(
            st.dictionaries(st.text(max_size=50), st.text(max_size=150), max_size=20)
        ),
        "error": _maybe(st.none() | errors),
    },
)
reply_dicts = st.fixed_dictionaries(
    {},
    optional={
        "id": _maybe(st.sampled_from([ID, ID, ID, ID + 1, 0])),
        "ok": _maybe(st.booleans()),
        "value": _maybe(loads | st.integers(-3, 2**70)),
        "error": _maybe(errors),
        "rss_kb": _maybe(st.integers(-5, 2**45) | st.sampled_from(SPECIAL_INTS)),
        "extra": plain,
    },
)


def receive(frame: bytes, op: str) -> str:
    """The trusted side's whole reading path for one frame; returns how it ended.

    Anything but the outcomes named here (an exception of another kind, a verdict
    of the platform's fault, an unbounded text, a report that is not strict JSON
    or not within its bound) fails the fuzz.
    """
    try:
        payload = codec.read_frame(io.BytesIO(frame), RESPONSE_MAX_BYTES)
        raw = codec.decode(payload, max_bytes=RESPONSE_MAX_BYTES)
    except EOFError:
        return "no frame"  # the session: the process ended (a crash verdict)
    except codec.CodecError as err:
        assert len(str(err)) < VIOLATION_MAX_CHARS
        return "malformed data"  # the session: CRASH, "the submission sent malformed data"
    try:
        reply = check_reply(raw, ID, op)
    except ProtocolViolation as err:
        assert len(str(err)) < VIOLATION_MAX_CHARS
        return "protocol violation"  # the session: CRASH with this message
    environment: dict = {}
    message = "passed"
    if reply.rss_kb is not None:
        environment["peak_memory_mb"] = round(reply.rss_kb / 1024, 1)  # as the engine does
    if reply.error is not None:
        assert reply.error.status in (CheckStatus.ERROR, CheckStatus.MEMORY)
        message = reply.error.text
        assert len(message) < ERROR_TEXT_MAX_CHARS
    elif op == "load":
        versions = reply.value["versions"]
        assert all(type(k) is str and type(v) is str for k, v in versions.items())
        environment["sandbox_versions"] = versions
    elif op == "new":
        assert type(reply.value) is int and reply.value >= 0
    report = bounded(_report([message] * 3, environment=environment))
    text = report_json(report)
    assert len(text.encode()) <= REPORT_MAX_BYTES
    strict_json(text)
    return "error" if reply.error is not None else "value"


FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,  # the same inputs on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FUZZ, max_examples=1000)
@given(
    data=st.binary(max_size=200) | st.binary(max_size=200).map(lambda b: codec.MAGIC + b),
    op=st.sampled_from(OPS),
)
def test_fuzz_random_bytes(data: bytes, op: str) -> None:
    receive(data, op)


@settings(FUZZ, max_examples=1500)
@given(raw=reply_dicts | plain, op=st.sampled_from(OPS))
def test_fuzz_replies(raw: object, op: str) -> None:
    receive(codec.frame_bytes(codec.encode(raw)), op)


@settings(FUZZ, max_examples=500)
@given(
    raw=reply_dicts,
    op=st.sampled_from(OPS),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.none() | st.integers(0, 10**6),
)
def test_fuzz_mutated_frames(
    raw: object, op: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    frame = bytearray(codec.frame_bytes(codec.encode(raw)))
    for at, byte in edits:
        frame[at % len(frame)] = byte
    if cut is not None:
        del frame[cut % len(frame) :]
    receive(bytes(frame), op)


# A fast seeded generator of hostile frames, for counts that Hypothesis (a few ms an
# example) cannot reach: bench/fuzz_replies.py runs it over 10**6 inputs.

_SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]
_HONEST = [
    {"id": ID, "ok": True, "value": np.arange(6.0).reshape(2, 3), "rss_kb": 51200},
    {"id": ID, "ok": True, "value": honest_load(), "rss_kb": 51200},
    {"id": ID, "ok": True, "value": 3, "rss_kb": 51200},
    {"id": ID, "ok": False, "error": honest_error(), "rss_kb": 51200},
]


def _random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice("xm\U0001f600\x00") * rng.choice([300, 2500, 20_000])
    return (
        "".join(
            chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x10FFFF)]))
            for _ in range(rng.randrange(12))
        )
        .encode("utf-8", "replace")
        .decode()
    )


def random_plain(rng: random.Random, depth: int = 0) -> object:
    """Any plain data the codec can carry, small, with the awkward values over-represented."""
    kind = rng.randrange(13 if depth < 3 else 10)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([*SPECIAL_INTS, rng.randrange(-(2**70), 2**70)])
    if kind == 3:
        return rng.choice([*_SPECIAL_FLOATS, rng.uniform(-1e6, 1e6)])
    if kind in (4, 5):
        return _random_text(rng)
    if kind == 6:
        return rng.randbytes(rng.randrange(20))
    if kind in (7, 8, 9):
        dtype = np.dtype(rng.choice(NUMERIC_DTYPES))
        shape = tuple(rng.randrange(4) for _ in range(rng.randrange(3)))
        raw = rng.randbytes(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
        arr = np.frombuffer(raw, dtype=np.uint8 if dtype.kind == "b" else dtype).reshape(shape)
        return arr.astype(bool) if dtype.kind == "b" else arr.copy()
    items = [random_plain(rng, depth + 1) for _ in range(rng.randrange(5))]
    if kind == 10:
        return items
    if kind == 11:
        return tuple(items)
    names = sorted(replies.REPLY_KEYS | replies.ERROR_KEYS | replies.LOAD_KEYS)
    return {
        rng.choice([rng.choice(names), _random_text(rng), rng.randrange(-3, 3)]): v for v in items
    }


def _field(rng: random.Random, valid: object) -> object:
    return valid if rng.random() < 0.9 else random_plain(rng)


def random_reply(rng: random.Random) -> dict:
    """A reply-shaped dict: each field mostly right, sometimes anything, sometimes absent."""
    error = {k: _field(rng, v) for k, v in honest_error().items() if rng.random() < 0.9}
    load = {k: _field(rng, v) for k, v in honest_load().items() if rng.random() < 0.9}
    if rng.random() < 0.2:
        load["error"] = _field(rng, error)
    fields = {
        "id": rng.choice([ID, ID, ID, ID + 1]),
        "ok": rng.random() < 0.5,
        "value": rng.choice([load, rng.randrange(-3, 2**65), random_plain(rng)]),
        "error": error,
        "rss_kb": rng.choice([51200, *SPECIAL_INTS]),
    }
    out = {k: _field(rng, v) for k, v in fields.items() if rng.random() < 0.95}
    if rng.random() < 0.8:
        # Mostly the one the runner sends: a value when ok, an error description when not.
        out.pop("error" if out.get("ok") is True else "value", None)
    if rng.random() < 0.05:
        out[_random_text(rng)] = random_plain(rng)
    return out


def _mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randrange(1, 5)):
        roll, at = rng.random(), rng.randrange(len(data) + 1)
        if roll < 0.5 and at < len(data):
            data[at] = rng.randrange(256)
        elif roll < 0.7:
            data[at:at] = rng.randbytes(rng.randrange(1, 9))
        elif roll < 0.85:
            del data[at : at + rng.randrange(1, 9)]
        else:
            # A length field set to something large: declared sizes are where decoders die.
            data[at : at + 8] = rng.choice([2**64 - 1, 2**40, 255]).to_bytes(8, "little")
    return bytes(data)


def random_frames(seed: int, count: int) -> Iterator[tuple[bytes, str]]:
    """``count`` hostile (frame, op) pairs, the same ones for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        roll = rng.random()
        op = rng.choice(OPS)
        if roll < 0.1:
            head = codec.MAGIC + rng.randrange(64).to_bytes(8, "big") if rng.random() < 0.5 else b""
            yield head + rng.randbytes(rng.randrange(64)), op
            continue
        if roll < 0.3:
            raw, mutate = rng.choice(_HONEST), rng.random() < 0.7  # honest, then damaged
        elif roll < 0.9:
            raw, mutate = random_reply(rng), rng.random() < 0.2
        else:
            raw, mutate = random_plain(rng), rng.random() < 0.2
        frame = codec.frame_bytes(codec.encode(raw))
        yield (_mutate(rng, frame) if mutate else frame), op


FAST_FUZZ_INPUTS = 20_000


def test_fuzz_fast_generator() -> None:
    """Most inputs at the speed of the reading path itself; every way it can end, seen."""
    outcomes: dict[str, int] = {}
    for frame, op in random_frames(seed=0, count=FAST_FUZZ_INPUTS):
        outcome = receive(frame, op)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == FAST_FUZZ_INPUTS
    # The generator reaches every outcome, so none of them goes untested.
    assert set(outcomes) == {"no frame", "malformed data", "protocol violation", "error", "value"}
