"""The plain-data codec: exact round trips, refusals, caps, hostile bytes, framing."""

from __future__ import annotations

import collections
import enum
import io
import math
import os
import pickle
import random
import struct
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from grader import codec
from grader.codec import CodecError, decode, encode

ALLOWED_DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
]
# Hostile messages that declare huge sizes must be refused before anything of
# that size is built; decoding one may allocate at most this much.
HOSTILE_PEAK_BYTES = 1 << 20
FUZZ_CASES = 3000


def roundtrip(obj: object) -> object:
    return decode(encode(obj))


def random_array(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    return rng.standard_normal(shape).astype(dt)


def assert_same_array(got: object, want: np.ndarray) -> None:
    assert type(got) is np.ndarray
    assert got.dtype == want.dtype.newbyteorder("=")
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want, strict=False)


def peak_allocation(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -1,
        255,
        2**63,
        -(2**63) - 1,
        -(2**1000),
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        5e-324,
        "",
        "héllo wörld 🙂",
        b"",
        bytes(range(256)),
        [],
        (),
        {},
        [1, [2, [3, (4, {"five": 5})]]],
        {"w": [1.0, 2.0], 3: ("x", None), -7: {"nested": (True, b"\x00")}},
    ],
    ids=repr,
)
def test_plain_values_round_trip_with_exact_types(value: object) -> None:
    got = roundtrip(value)
    assert got == value
    assert type(got) is type(value)
    if isinstance(value, float):
        # Bit-for-bit: -0.0 keeps its sign, subnormals survive.
        assert struct.pack("<d", got) == struct.pack("<d", value)


def test_bool_stays_distinct_from_int() -> None:
    got = roundtrip([True, 1, False, 0, {1: "int key", "1": "str key"}])
    assert [type(v) for v in got[:4]] == [bool, int, bool, int]
    assert got[4] == {1: "int key", "1": "str key"}
    assert [type(k) for k in got[4]] == [int, str]


def test_tuple_and_list_are_preserved_at_every_level() -> None:
    got = roundtrip(([1, (2, [3])], [(4,)]))
    assert got == ([1, (2, [3])], [(4,)])
    assert type(got) is tuple
    assert type(got[0]) is list and type(got[0][1]) is tuple and type(got[0][1][1]) is list
    assert type(got[1]) is list and type(got[1][0]) is tuple


def test_dict_order_is_preserved() -> None:
    keys = ["zeta", 3, "alpha", -1, "mid"]
    got = roundtrip({k: i for i, k in enumerate(keys)})
    assert list(got) == keys
    assert list(got.values()) == list(range(len(keys)))


def test_nan_payloads_survive_as_scalars_and_in_arrays() -> None:
    bits = 0x7FF8_0000_0000_1234  # a quiet NaN carrying a payload
    nan = struct.unpack("<d", struct.pack("<Q", bits))[0]
    got = roundtrip(nan)
    assert struct.unpack("<Q", struct.pack("<d", got))[0] == bits

    arr64 = np.array([bits, 0x7FF0_0000_0000_0000, 0xFFF8_0000_0000_0001], dtype=np.uint64).view(
        np.float64
    )
    assert np.array_equal(roundtrip(arr64).view(np.uint64), arr64.view(np.uint64))
    arr32 = np.array([0x7FC0_0ABC, 0xFF80_0000], dtype=np.uint32).view(np.float32)
    assert np.array_equal(roundtrip(arr32).view(np.uint32), arr32.view(np.uint32))
    arr16 = np.array([0x7E01, 0xFC00], dtype=np.uint16).view(np.float16)
    assert np.array_equal(roundtrip(arr16).view(np.uint16), arr16.view(np.uint16))


@pytest.mark.parametrize("dtype", ALLOWED_DTYPES)
def test_arrays_of_every_allowed_dtype_round_trip(dtype: str) -> None:
    arr = random_array(dtype, (3, 4), seed=1)
    assert_same_array(roundtrip(arr), arr)


@pytest.mark.parametrize("dtype", ALLOWED_DTYPES)
def test_non_contiguous_fortran_and_big_endian_arrays_round_trip(dtype: str) -> None:
    base = random_array(dtype, (6, 5, 4), seed=2)
    strided = base[::2, ::-1, 1:3]
    fortran = np.asfortranarray(base)
    big = base.astype(np.dtype(dtype).newbyteorder(">"))
    assert not strided.flags.c_contiguous and not fortran.flags.c_contiguous
    for arr in (strided, fortran, big, big[:, ::-2]):
        got = roundtrip(arr)
        # Every multi-byte dtype comes back in the host's native byte order
        # (little-endian on the hosts we run), values unchanged.
        assert got.dtype.isnative
        assert_same_array(got, arr)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,) * 32])
def test_zero_d_empty_and_32_d_arrays_round_trip(shape: tuple[int, ...]) -> None:
    arr = random_array("float32", shape, seed=3)
    assert_same_array(roundtrip(arr), arr)


@pytest.mark.parametrize(
    ("scalar", "dtype"),
    [
        (np.float32(1.25), "float32"),
        (np.float64(-2.5), "float64"),
        (np.float16(0.5), "float16"),
        (np.int64(-5), "int64"),
        (np.uint8(200), "uint8"),
        (np.bool_(True), "bool"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_numpy_scalars_become_zero_d_arrays_of_their_dtype(scalar: np.generic, dtype: str) -> None:
    got = roundtrip(scalar)
    assert type(got) is np.ndarray
    assert got.shape == ()
    assert got.dtype == np.dtype(dtype)
    assert got.item() == scalar.item()


def test_decoded_arrays_are_fresh_writable_base_arrays() -> None:
    message = bytearray(encode([np.arange(6.0).reshape(2, 3), np.zeros(())]))
    got = decode(message)
    for arr in got:
        assert type(arr) is np.ndarray
        assert arr.flags.writeable and arr.flags.owndata and arr.flags.c_contiguous
        assert not np.shares_memory(arr, np.frombuffer(message, dtype=np.uint8))
    message[:] = bytes(len(message))  # the message is gone; the arrays are not
    np.testing.assert_array_equal(got[0], np.arange(6.0).reshape(2, 3))
    got[0][0, 0] = 42.0


def test_stray_bool_bytes_are_sent_as_true() -> None:
    raw = np.array([0, 1, 2, 255], dtype=np.uint8)
    got = roundtrip(raw.view(bool))
    assert got.dtype == bool
    assert got.view(np.uint8).tolist() == [0, 1, 1, 1]


def test_subclasses_of_builtins_arrive_as_the_base_type() -> None:
    class Color(enum.IntEnum):
        RED = 3

    class Liar(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            raise AssertionError("the codec must not call a subclass's methods")

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    point = collections.namedtuple("Point", "x y")(1, 2)
    got = roundtrip([Color.RED, point, collections.OrderedDict(a=1), Liar("truth")])
    assert got == [3, (1, 2), {"a": 1}, "truth"]
    assert [type(v) for v in got] == [int, tuple, dict, str]


def test_ndarray_subclass_is_sent_as_plain_data_without_calling_its_methods() -> None:
    calls: list[str] = []

    class Lying(np.ndarray):
        def _called(name: str):  # noqa: N805  (a factory for the class body)
            def method(self: object, *args: object, **kwargs: object) -> object:
                calls.append(name)
                raise AssertionError(f"{name} of the subclass was called")

            return method

        __eq__ = _called("__eq__")
        __array_ufunc__ = _called("__array_ufunc__")
        __array_function__ = _called("__array_function__")
        __array__ = _called("__array__")
        __getitem__ = _called("__getitem__")
        __iter__ = _called("__iter__")
        __len__ = _called("__len__")
        tobytes = _called("tobytes")
        astype = _called("astype")
        copy = _called("copy")
        view = _called("view")
        reshape = _called("reshape")

    plain = np.arange(12, dtype=np.int32).reshape(3, 4)
    sneaky = np.ndarray.view(plain, Lying)
    got = roundtrip({"out": sneaky})["out"]
    assert calls == []
    assert type(got) is np.ndarray
    assert np.array_equal(got, plain)


# ---------------------------------------------------------------------------
# Refusals


class Foo:
    pass


class WritesFileWhenUnpickled:
    """A pickle gadget: unpickling it writes a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "pwned"))


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({1, 2}, "set"),
        (frozenset(), "frozenset"),
        (len, "builtin_function_or_method"),
        (lambda x: x, "function"),
        (Foo(), "Foo"),
        (Foo, "type"),
        (1 + 2j, "complex"),
        (bytearray(b"x"), "bytearray"),
        (memoryview(b"x"), "memoryview"),
        (range(3), "range"),
        (iter([1]), "list_iterator"),
        ([1, [2, {3}]], "set"),
        ({"k": object()}, "object"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_disallowed_values_are_refused_naming_their_type(value: object, named: str) -> None:
    with pytest.raises(CodecError, match=rf"cannot send a value of type \S*{named}\b"):
        encode(value)


@pytest.mark.parametrize(
    ("arr", "named"),
    [
        (np.array([1, "a"], dtype=object), "object"),
        (np.array(["ab", "c"]), "<U2"),
        (np.array([b"ab"]), "|S2"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), r"\[\('a'"),
        (np.zeros(2, dtype="V4"), "|V4"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), r"datetime64\[D\]"),
        (np.array([1], dtype="timedelta64[s]"), r"timedelta64\[s\]"),
        (np.ones(2, dtype=np.complex128), "complex128"),
        (np.ones(2, dtype=np.longdouble), "float128" if np.longdouble().itemsize == 16 else None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_arrays_of_disallowed_dtypes_are_refused(arr: np.ndarray, named: str | None) -> None:
    if named is None:
        pytest.skip("longdouble is float64 on this platform, which is allowed")
    with pytest.raises(CodecError, match=rf"cannot send an array of dtype {named}"):
        encode(arr)


@pytest.mark.parametrize("scalar", [np.complex64(1j), np.str_("x"), np.datetime64("2020-01-01")])
def test_numpy_scalars_of_disallowed_dtypes_are_refused(scalar: np.generic) -> None:
    with pytest.raises(CodecError, match=f"NumPy scalar of type numpy.{type(scalar).__name__}"):
        encode(scalar)


def test_object_array_with_a_pickle_gadget_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    # The gadget is real: pickle would run it.
    proof = tmp_path / "proof.txt"
    pickle.loads(pickle.dumps(WritesFileWhenUnpickled(proof)))
    assert proof.read_text() == "pwned"

    target = tmp_path / "pwned.txt"
    gadget = np.empty(1, dtype=object)
    gadget[0] = WritesFileWhenUnpickled(target)
    with pytest.raises(CodecError, match="cannot send an array of dtype object"):
        encode({"out": gadget})
    # The decoder has no pickle path either: pickled bytes are just bad input.
    for hostile in (pickle.dumps(gadget), pickle.dumps(WritesFileWhenUnpickled(target))):
        with pytest.raises(CodecError):
            decode(hostile)
    assert not target.exists()


def test_lone_surrogates_are_refused_both_ways() -> None:
    with pytest.raises(CodecError, match="lone surrogate"):
        encode("ok\ud800")
    with pytest.raises(CodecError, match="lone surrogate"):
        encode({"\udfff": 1})
    surrogate_utf8 = b"\xed\xa0\x80"  # what a lax encoder would write for U+D800
    with pytest.raises(CodecError, match="not valid UTF-8"):
        decode(b"s" + struct.pack("<Q", 3) + surrogate_utf8)
    with pytest.raises(CodecError, match="not valid UTF-8"):
        decode(b"s" + struct.pack("<Q", 2) + b"\xc3\x28")


@pytest.mark.parametrize("key", [1.5, None, (1, 2), True, b"k"])
def test_dict_keys_other_than_str_or_int_are_refused(key: object) -> None:
    with pytest.raises(CodecError, match="dict keys must be str or int"):
        encode({key: 1})


# ---------------------------------------------------------------------------
# Caps


def nested_lists(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_depth_cap_on_encode_and_decode() -> None:
    ok = nested_lists(codec.DEFAULT_MAX_DEPTH)
    assert roundtrip(ok) == ok
    too_deep = nested_lists(codec.DEFAULT_MAX_DEPTH + 1)
    with pytest.raises(CodecError, match="nested more than 64 levels"):
        encode(too_deep)
    message = encode(too_deep, max_depth=codec.DEFAULT_MAX_DEPTH + 1)
    with pytest.raises(CodecError, match="nested more than 64 levels"):
        decode(message)
    assert decode(message, max_depth=codec.DEFAULT_MAX_DEPTH + 1) == too_deep


def test_a_container_that_contains_itself_is_refused() -> None:
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(CodecError, match="contains itself"):
        encode(loop)
    d: dict = {}
    d["me"] = d
    with pytest.raises(CodecError, match="nested more than"):
        encode(d)


def test_item_cap_on_decode() -> None:
    message = encode(list(range(20)))  # 21 values: the list and its items
    assert decode(message, max_items=21) == list(range(20))
    with pytest.raises(CodecError, match="more than 20 items"):
        decode(message, max_items=20)
    with pytest.raises(CodecError, match="more than 10 items"):
        decode(encode({str(i): i for i in range(6)}), max_items=10)


def test_byte_cap_on_encode_and_decode() -> None:
    with pytest.raises(CodecError, match="over the limit"):
        encode(b"x" * 1000, max_bytes=500)
    with pytest.raises(CodecError, match="over the limit"):
        encode(["y" * 300, "z" * 300], max_bytes=500)
    message = encode(b"x" * 1000)
    with pytest.raises(CodecError, match="over the 500 bytes limit"):
        decode(message, max_bytes=500)
    assert decode(message, max_bytes=len(message)) == b"x" * 1000


def test_array_over_the_byte_cap_is_refused_before_it_is_copied() -> None:
    # A strided view of 8 MiB would need a full copy to send.
    big = np.zeros((1024, 2048), dtype=np.float64)[:, ::2]

    def attempt() -> None:
        with pytest.raises(CodecError, match="over the limit"):
            encode(big, max_bytes=1 << 20)

    assert peak_allocation(attempt) < HOSTILE_PEAK_BYTES


def test_int_size_cap() -> None:
    largest = 2 ** (codec.MAX_INT_BYTES * 8 - 1) - 1
    assert roundtrip(largest) == largest
    assert roundtrip(-largest) == -largest
    with pytest.raises(CodecError, match="int with 8192 bits is too large"):
        encode(largest + 1)
    too_long = codec.MAX_INT_BYTES + 1
    with pytest.raises(CodecError, match="int of 1025 bytes"):
        decode(b"i" + struct.pack("<I", too_long) + b"\x01" * too_long)


# ---------------------------------------------------------------------------
# Hostile bytes


def array_message(code: int, shape: tuple[int, ...], nbytes: int, data: bytes = b"") -> bytes:
    dims = b"".join(struct.pack("<Q", d) for d in shape)
    return bytes([ord("a"), code, len(shape)]) + dims + struct.pack("<Q", nbytes) + data


FLOAT64_CODE = 12
BOOL_CODE = 1


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"", "truncated"),
        (b"?", "unknown tag 0x3f"),
        (b"N\x00", "unexpected bytes after"),
        (b"f\x00\x00", "truncated"),
        (b"i" + struct.pack("<I", 0), "int of 0 bytes"),
        (b"s" + struct.pack("<Q", 2**60) + b"abc", "truncated"),
        (b"b" + struct.pack("<Q", 2**64 - 1), "truncated"),
        (b"l" + struct.pack("<Q", 2**60) + b"N", "declares 1152921504606846976 items"),
        (b"d" + struct.pack("<Q", 1) + b"NN", "keys must be str or int"),
        (
            b"d" + struct.pack("<Q", 2) + b"s\x01" + bytes(7) + b"kN" + b"s\x01" + bytes(7) + b"kN",
            "twice",
        ),
        (array_message(0, (1,), 8, bytes(8)), "dtype code 0"),
        (array_message(13, (1,), 8, bytes(8)), "dtype code 13"),
        (array_message(255, (1,), 8, bytes(8)), "dtype code 255"),
        (array_message(FLOAT64_CODE, (1,) * 33, 8, bytes(8)), "33 dimensions"),
        (array_message(FLOAT64_CODE, (2**63,), 8, bytes(8)), "too large"),  # -2**63 as int64
        (array_message(FLOAT64_CODE, (2, 3), 40, bytes(40)), "needs 48 bytes, message says 40"),
        # 2**32 * 2**32 * 8 wraps to 0 in 64-bit arithmetic; Python ints do not wrap.
        (array_message(FLOAT64_CODE, (2**32, 2**32), 0), "too large"),
        (array_message(FLOAT64_CODE, (0, 2**62), 0), "too large"),
        (array_message(FLOAT64_CODE, (2**59,), 2**62), "truncated"),
        (array_message(FLOAT64_CODE, (2**40,), 2**43), "truncated"),
        (array_message(BOOL_CODE, (3,), 3, b"\x00\x02\x01"), "bytes other than 0 and 1"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_malformed_messages_are_refused(message: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(message)


@pytest.mark.parametrize(
    "message",
    [
        b"l" + struct.pack("<Q", 2**63),
        b"s" + struct.pack("<Q", 2**62),
        array_message(FLOAT64_CODE, (2**20, 2**20), 2**43),
        array_message(FLOAT64_CODE, (0, 2**30, 2**30), 0),
        b"t" + struct.pack("<Q", 1 << 40) + b"N" * 64,
    ],
)
def test_huge_declarations_allocate_nothing(message: bytes) -> None:
    def attempt() -> None:
        with pytest.raises(CodecError):
            decode(message)

    assert peak_allocation(attempt) < HOSTILE_PEAK_BYTES


def test_every_truncation_of_a_valid_message_is_refused() -> None:
    message = encode({"x": np.arange(5.0), "y": [1, "two", (3.0, None, b"4")], 5: np.bool_(1)})
    for cut in range(len(message)):
        with pytest.raises(CodecError):
            decode(message[:cut])


def fuzz_corpus() -> list[bytes]:
    return [
        encode(v)
        for v in (
            None,
            [1, 2.5, "three", b"four", (True, None)],
            {"a": np.arange(6, dtype=np.int16).reshape(2, 3), 7: {"b": [np.float32(1)]}},
            np.zeros((2, 2, 2), dtype=bool),
            (2**200, -3, "ünï", {"k": ()}),
            [np.ones(3, dtype=d) for d in ALLOWED_DTYPES],
        )
    ]


def mutate(rng: random.Random, message: bytes) -> bytes:
    data = bytearray(message)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:  # insert bytes
            data[pos:pos] = rng.randbytes(rng.randint(1, 9))
        elif op == 2:  # delete a run
            del data[pos : pos + rng.randint(1, 9)]
        elif op == 3:  # truncate
            del data[pos:]
        elif op == 4:  # plant a large 64-bit length
            data[pos:pos] = struct.pack("<Q", rng.choice([2**63, 2**64 - 1, 2**32, 2**40]))
        else:  # splice in a fresh tag
            data[pos:pos] = bytes([rng.choice(b"NTFifsbltda?\x00\xff")])
    return bytes(data)


def test_fuzzed_messages_raise_only_codec_error() -> None:
    rng = random.Random(20240531)
    corpus = fuzz_corpus()
    outcomes = collections.Counter()
    for case in range(FUZZ_CASES):
        if case % 5 == 0:
            data = rng.randbytes(rng.randint(0, 64))
        else:
            data = mutate(rng, rng.choice(corpus))
        try:
            decode(data, max_items=10_000)
            outcomes["decoded"] += 1
        except CodecError:
            outcomes["refused"] += 1
        except Exception as exc:
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc} for input {data!r}")
    # The loop really exercised the refusal paths (and some mutants stay valid).
    assert outcomes["refused"] > FUZZ_CASES // 2
    assert outcomes["decoded"] > 0


# ---------------------------------------------------------------------------
# Framing


class Trickle(io.RawIOBase):
    """A raw stream that moves at most ``step`` bytes per call, like a busy pipe."""

    def __init__(self, data: bytes = b"", step: int = 3) -> None:
        self.data = bytearray(data)
        self.step = step
        self.written = bytearray()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.step, len(self.data))
        buf[:n] = self.data[:n]
        del self.data[:n]
        return n

    def write(self, buf) -> int:
        n = min(len(buf), self.step)
        self.written += bytes(buf[:n])
        return n


def test_frames_survive_short_writes_and_short_reads() -> None:
    value = {"x": np.arange(10.0), "msg": "hello"}
    sink = Trickle(step=3)
    codec.send(sink, value)
    assert bytes(sink.written[:4]) == codec.MAGIC
    assert struct.unpack(">Q", sink.written[4:12])[0] == len(sink.written) - 12
    source = Trickle(bytes(sink.written), step=2)
    got = codec.recv(source)
    assert list(got) == ["x", "msg"] and got["msg"] == "hello"
    np.testing.assert_array_equal(got["x"], np.arange(10.0))
    with pytest.raises(EOFError):
        codec.recv(source)


def test_frames_over_a_pipe_with_a_slow_writer() -> None:
    r, w = os.pipe()
    values = [{"i": i, "data": np.full(40_000, float(i))} for i in range(3)]  # > pipe buffer

    def writer() -> None:
        with os.fdopen(w, "wb", buffering=0) as out:
            for v in values:
                message = encode(v)
                frame = codec.MAGIC + struct.pack(">Q", len(message)) + message
                for start in range(0, len(frame), 7919):  # uneven chunks
                    out.write(frame[start : start + 7919])

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(r, "rb", buffering=0) as src:
        got = [codec.recv(src) for _ in values]
        with pytest.raises(EOFError):
            codec.recv(src)
    thread.join()
    for want, have in zip(values, got, strict=True):
        assert have["i"] == want["i"]
        np.testing.assert_array_equal(have["data"], want["data"])


def pipe_with(data: bytes):
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    return os.fdopen(r, "rb", buffering=0)


def test_bad_magic_is_refused() -> None:
    with (
        pipe_with(b"hello from print()\n") as src,
        pytest.raises(CodecError, match="bad frame magic"),
    ):
        codec.read_frame(src, 1024)


def test_stream_ending_inside_a_frame_is_refused() -> None:
    with (
        pipe_with(codec.MAGIC + b"\x00\x00") as src,
        pytest.raises(CodecError, match="inside a frame header"),
    ):
        codec.read_frame(src, 1024)
    header = codec.MAGIC + struct.pack(">Q", 100)
    with pipe_with(header + b"x" * 40) as src, pytest.raises(CodecError, match="40 of 100 bytes"):
        codec.read_frame(src, 1024)


def test_oversized_length_header_is_refused_without_allocating_it() -> None:
    header = codec.MAGIC + struct.pack(">Q", 2**62)
    with pipe_with(header + b"x" * 100) as src:

        def attempt() -> None:
            with pytest.raises(CodecError, match="over the 1 MiB limit"):
                codec.read_frame(src, 1 << 20)

        assert peak_allocation(attempt) < HOSTILE_PEAK_BYTES
        # Refused on the header alone: the payload was never read.
        assert src.read() == b"x" * 100


def test_write_frame_flushes() -> None:
    r, w = os.pipe()
    with os.fdopen(w, "wb") as out, os.fdopen(r, "rb") as src:  # buffered writer
        codec.write_frame(out, b"payload")
        assert codec.read_frame(src, 100) == b"payload"
