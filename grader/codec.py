"""The plain-data codec: the only thing that crosses the sandbox boundary.

This module is copied verbatim into every sandbox and imported there by the
runner, so it depends on nothing but the standard library and NumPy. The
encoder runs on both sides; the decoder's promise matters on the trusted side,
where the bytes come from hostile code: ``decode`` accepts any byte string and
either returns plain data or raises ``CodecError`` (nothing else), allocating no
more than the declared sizes allow, which are checked against the bytes that
are actually there before anything is built.

Values that can be sent:

    None, bool, int (up to ``MAX_INT_BYTES`` bytes), float (float64, NaN and
    inf included, bits preserved), str (UTF-8), bytes, list, tuple, dict with
    str or int keys (order kept), NumPy arrays of dtype bool, int8..int64,
    uint8..uint64, float16, float32, float64 (any shape, any layout), and NumPy
    scalars of those dtypes (sent as 0-d arrays).

Subclasses of the allowed builtins (a namedtuple, an OrderedDict, an IntEnum)
and of ``np.ndarray`` are sent as their base type's data, read with the base
type's own methods; what comes out of ``decode`` is always the exact base type.
Arrays come back as fresh, writable, C-contiguous ``np.ndarray`` objects that
own their data, in the host's native byte order, whatever layout they were sent
in.

Wire format (all integers little-endian): one tag byte per value, then

    N / T / F       None / True / False, nothing more
    i               u32 byte count, then two's-complement integer bytes
    f               8 bytes IEEE-754 float64
    s / b           u64 byte count, then UTF-8 text / raw bytes
    l / t           u64 item count, then the items
    d               u64 pair count, then key, value, key, value ... (keys: s or i)
    a               u8 dtype code, u8 ndim, ndim x u64 dims, u64 byte count, raw data

Frames on a pipe: ``MAGIC`` (4 bytes), u64 big-endian payload length, payload.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

import numpy as np

MAGIC = b"DLG1"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_ITEMS = 1_000_000
MAX_INT_BYTES = 1024
MAX_NDIM = 32
# Recursion in encode/decode is bounded by max_depth; this keeps it well inside
# Python's own recursion limit whatever a caller passes.
MAX_SUPPORTED_DEPTH = 200

_TAG_NONE = ord("N")
_TAG_TRUE = ord("T")
_TAG_FALSE = ord("F")
_TAG_INT = ord("i")
_TAG_FLOAT = ord("f")
_TAG_STR = ord("s")
_TAG_BYTES = ord("b")
_TAG_LIST = ord("l")
_TAG_TUPLE = ord("t")
_TAG_DICT = ord("d")
_TAG_ARRAY = ord("a")

# The whitelist of array dtypes, keyed by kind and item size so that aliases
# (np.longlong next to np.int64, '>f8' next to '<f8') map to one wire code.
_DTYPE_CODES: dict[str, int] = {
    "b1": 1,
    "i1": 2,
    "i2": 3,
    "i4": 4,
    "i8": 5,
    "u1": 6,
    "u2": 7,
    "u4": 8,
    "u8": 9,
    "f2": 10,
    "f4": 11,
    "f8": 12,
}
_WIRE_DTYPES: dict[int, np.dtype] = {
    code: np.dtype(key).newbyteorder("<") for key, code in _DTYPE_CODES.items()
}
_ALLOWED_DTYPES = "bool, int8/16/32/64, uint8/16/32/64, float16/32/64"
_ALLOWED_VALUES = (
    "None, bool, int, float, str, bytes, list, tuple, dict, "
    f"and NumPy arrays or scalars of dtype {_ALLOWED_DTYPES}"
)

_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_FRAME_HEADER = struct.Struct(">4sQ")
_READ_CHUNK = 1 << 20
# numpy refuses arrays whose shape product (zeros counted as ones) overflows intp.
_MAX_SHAPE_PRODUCT = 2**62


class CodecError(ValueError):
    """A value cannot be sent, or bytes received are not a valid message.

    The message names the offending type, dtype or limit, so it can be shown
    to a student as it is.
    """


class TruncatedFrame(CodecError):
    """The stream ended inside a frame: its writer stopped (or was stopped) mid-write."""


def _type_name(obj: object) -> str:
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_depth_limit(max_depth: int) -> None:
    if not 0 <= max_depth <= MAX_SUPPORTED_DEPTH:
        raise ValueError(f"max_depth must be between 0 and {MAX_SUPPORTED_DEPTH}")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    x = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if x < 1024:
            return f"{x:.1f} {unit}".replace(".0 ", " ")
        x /= 1024
    return f"{x:.1f} TiB"


# ---------------------------------------------------------------------------
# Encoding


class _Encoder:
    def __init__(self, max_bytes: int, max_depth: int) -> None:
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.parts: list[bytes | memoryview] = []
        self.size = 0

    def reserve(self, n: int) -> None:
        # Checked before the bytes are built, so an oversized array is refused
        # without first being copied.
        if self.size + n > self.max_bytes:
            raise CodecError(f"value encodes to more than {_size(self.max_bytes)}, over the limit")
        self.size += n

    def emit(self, chunk: bytes | memoryview) -> None:
        self.reserve(len(chunk))
        self.parts.append(chunk)

    def value(self, obj: object, depth: int) -> None:
        # Order matters: bool before int, np.generic before float (np.float64
        # subclasses float), np.ndarray before everything of its subclasses.
        if obj is None:
            self.emit(bytes((_TAG_NONE,)))
        elif obj is True:
            self.emit(bytes((_TAG_TRUE,)))
        elif obj is False:
            self.emit(bytes((_TAG_FALSE,)))
        elif isinstance(obj, np.ndarray):
            # The base class's own view: no method of a subclass is called.
            self.array(np.ndarray.view(obj, np.ndarray), "an array")
        elif isinstance(obj, np.generic):
            self.array(np.asarray(obj), f"a NumPy scalar of type {_type_name(obj)}")
        elif isinstance(obj, int):
            self.integer(obj)
        elif isinstance(obj, float):
            self.emit(bytes((_TAG_FLOAT,)) + _F64.pack(obj))
        elif isinstance(obj, str):
            self.text(_TAG_STR, obj)
        elif isinstance(obj, bytes):
            raw = obj if type(obj) is bytes else memoryview(obj).tobytes()
            self.emit(bytes((_TAG_BYTES,)) + _U64.pack(len(raw)))
            self.emit(raw)
        elif isinstance(obj, (list, tuple)):
            self.enter(depth, obj)
            items = list.copy(obj) if isinstance(obj, list) else tuple(tuple.__iter__(obj))
            tag = _TAG_LIST if isinstance(obj, list) else _TAG_TUPLE
            self.emit(bytes((tag,)) + _U64.pack(len(items)))
            for item in items:
                self.value(item, depth + 1)
        elif isinstance(obj, dict):
            self.enter(depth, obj)
            pairs = list(dict.items(obj))
            self.emit(bytes((_TAG_DICT,)) + _U64.pack(len(pairs)))
            for key, item in pairs:
                self.key(key)
                self.value(item, depth + 1)
        else:
            raise CodecError(
                f"cannot send a value of type {_type_name(obj)} (allowed: {_ALLOWED_VALUES})"
            )

    def enter(self, depth: int, obj: object) -> None:
        if depth >= self.max_depth:
            raise CodecError(
                f"{_type_name(obj)} nested more than {self.max_depth} levels deep"
                " (is it a container that contains itself?)"
            )

    def key(self, key: object) -> None:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise CodecError(f"dict keys must be str or int, not {_type_name(key)}")
        if isinstance(key, str):
            self.text(_TAG_STR, key)
        else:
            self.integer(key)

    def integer(self, obj: int) -> None:
        n = (int.bit_length(obj) + 8) // 8  # one spare bit for the sign
        if n > MAX_INT_BYTES:
            raise CodecError(
                f"int with {int.bit_length(obj)} bits is too large to send"
                f" (limit {MAX_INT_BYTES * 8 - 1} bits)"
            )
        self.emit(bytes((_TAG_INT,)) + _U32.pack(n) + int.to_bytes(obj, n, "little", signed=True))

    def text(self, tag: int, obj: str) -> None:
        try:
            raw = str.encode(obj, "utf-8")
        except UnicodeEncodeError as exc:
            raise CodecError(
                f"cannot send a str holding a lone surrogate {obj[exc.start]!r}"
                f" at index {exc.start}: it is not valid UTF-8"
            ) from None
        self.emit(bytes((tag,)) + _U64.pack(len(raw)))
        self.emit(raw)

    def array(self, arr: np.ndarray, what: str) -> None:
        dt = arr.dtype
        code = None
        if dt.kind in "biuf" and dt.names is None and dt.subdtype is None:
            code = _DTYPE_CODES.get(f"{dt.kind}{dt.itemsize}")
        if code is None:
            if what == "an array":
                raise CodecError(f"cannot send an array of dtype {dt} (allowed: {_ALLOWED_DTYPES})")
            raise CodecError(f"cannot send {what} (allowed dtypes: {_ALLOWED_DTYPES})")
        if arr.ndim > MAX_NDIM:
            raise CodecError(f"cannot send an array with {arr.ndim} dimensions (limit {MAX_NDIM})")
        nbytes = arr.size * dt.itemsize
        header = bytes((_TAG_ARRAY, code, arr.ndim))
        header += b"".join(_U64.pack(d) for d in arr.shape) + _U64.pack(nbytes)
        self.emit(header)
        self.reserve(nbytes)
        if dt.kind == "b":
            # Normalise stray bool bytes (a uint8 view holding 2) to 0/1: the
            # decoder refuses anything else.
            data = np.ascontiguousarray(arr.view(np.uint8) != 0).view(np.uint8)
        else:
            data = np.ascontiguousarray(arr, dtype=_WIRE_DTYPES[code])
        self.parts.append(memoryview(data.reshape(-1).view(np.uint8)))


def encode(
    obj: object,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> bytes:
    """Encode a plain-data value (see the module docstring) to bytes.

    Raises CodecError naming the offending type or dtype for anything else, for
    containers nested deeper than ``max_depth`` (which also catches a list that
    contains itself), for ints over ``MAX_INT_BYTES`` bytes, for str holding
    lone surrogates, and when the result would exceed ``max_bytes``.
    The caller's objects are only read, never modified.
    """
    _check_depth_limit(max_depth)
    enc = _Encoder(max_bytes, max_depth)
    enc.value(obj, 0)
    return b"".join(enc.parts)


# ---------------------------------------------------------------------------
# Decoding


class _Decoder:
    def __init__(self, view: memoryview, max_depth: int, max_items: int) -> None:
        self.view = view
        self.pos = 0
        self.max_depth = max_depth
        self.max_items = max_items
        self.items = 0

    def remaining(self) -> int:
        return len(self.view) - self.pos

    def take(self, n: int, what: str) -> memoryview:
        if n > self.remaining():
            raise CodecError(
                f"message truncated: {what} needs {n} bytes at offset {self.pos},"
                f" only {self.remaining()} left"
            )
        chunk = self.view[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: struct.Struct, what: str) -> int:
        return fmt.unpack(self.take(fmt.size, what))[0]

    def count(self, what: str, min_item_bytes: int) -> int:
        n = self.unpack(_U64, f"{what} length")
        # Every item takes at least min_item_bytes, so a count the remaining
        # bytes cannot hold is a lie; refuse it before looping over it.
        if n * min_item_bytes > self.remaining():
            raise CodecError(f"message truncated: {what} declares {n} items")
        if n > self.max_items - self.items:
            raise CodecError(f"message holds more than {self.max_items} items")
        return n

    def value(self, depth: int) -> object:
        self.items += 1
        if self.items > self.max_items:
            raise CodecError(f"message holds more than {self.max_items} items")
        at = self.pos
        tag = self.take(1, "tag")[0]
        if tag == _TAG_NONE:
            return None
        if tag == _TAG_TRUE:
            return True
        if tag == _TAG_FALSE:
            return False
        if tag == _TAG_INT:
            return self.integer()
        if tag == _TAG_FLOAT:
            return _F64.unpack(self.take(8, "float"))[0]
        if tag == _TAG_STR:
            return self.text()
        if tag == _TAG_BYTES:
            n = self.unpack(_U64, "bytes length")
            return self.take(n, "bytes").tobytes()
        if tag in (_TAG_LIST, _TAG_TUPLE):
            self.enter(depth)
            n = self.count("list" if tag == _TAG_LIST else "tuple", 1)
            items = [self.value(depth + 1) for _ in range(n)]
            return items if tag == _TAG_LIST else tuple(items)
        if tag == _TAG_DICT:
            self.enter(depth)
            n = self.count("dict", 2)
            out: dict[object, object] = {}
            for _ in range(n):
                key = self.key()
                if key in out:
                    # The key is the sender's: a 20 MiB one must not become a 20 MiB message.
                    shown = key[:60] + "..." if isinstance(key, str) and len(key) > 60 else key
                    raise CodecError(f"dict has the key {shown!r} twice")
                out[key] = self.value(depth + 1)
            return out
        if tag == _TAG_ARRAY:
            return self.array()
        raise CodecError(f"unknown tag {tag:#04x} at offset {at}")

    def enter(self, depth: int) -> None:
        if depth >= self.max_depth:
            raise CodecError(f"message nested more than {self.max_depth} levels deep")

    def key(self) -> object:
        self.items += 1
        if self.items > self.max_items:
            raise CodecError(f"message holds more than {self.max_items} items")
        tag = self.take(1, "dict key tag")[0]
        if tag == _TAG_STR:
            return self.text()
        if tag == _TAG_INT:
            return self.integer()
        raise CodecError(f"dict key has tag {tag:#04x}; keys must be str or int")

    def integer(self) -> int:
        n = self.unpack(_U32, "int length")
        if not 1 <= n <= MAX_INT_BYTES:
            raise CodecError(f"int of {n} bytes (must be 1 to {MAX_INT_BYTES})")
        return int.from_bytes(self.take(n, "int"), "little", signed=True)

    def text(self) -> str:
        n = self.unpack(_U64, "str length")
        raw = self.take(n, "str")
        try:
            # Python's strict UTF-8 codec also refuses encoded surrogates.
            return str(raw, "utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError(f"str is not valid UTF-8: {exc.reason}") from None

    def array(self) -> np.ndarray:
        code = self.unpack(_U8, "array dtype")
        wire = _WIRE_DTYPES.get(code)
        if wire is None:
            raise CodecError(f"array dtype code {code} is not one of the allowed dtypes")
        ndim = self.unpack(_U8, "array ndim")
        if ndim > MAX_NDIM:
            raise CodecError(f"array with {ndim} dimensions (limit {MAX_NDIM})")
        shape = tuple(self.unpack(_U64, "array shape") for _ in range(ndim))
        nbytes = self.unpack(_U64, "array byte count")
        # Python ints do not overflow, so these products are exact.
        size = 1
        bound = wire.itemsize
        for d in shape:
            size *= d
            bound *= max(d, 1)
        if bound > _MAX_SHAPE_PRODUCT:
            raise CodecError(f"array shape {shape} is too large")
        if size * wire.itemsize != nbytes:
            raise CodecError(
                f"array of shape {shape} and dtype {wire.name} needs"
                f" {size * wire.itemsize} bytes, message says {nbytes}"
            )
        raw = self.take(nbytes, "array data")
        if wire.kind == "b" and nbytes and np.frombuffer(raw, dtype=np.uint8).max() > 1:
            raise CodecError("bool array holds bytes other than 0 and 1")
        try:
            flat = np.frombuffer(raw, dtype=wire)
            # astype with copy=True gives a fresh, writable, C-ordered base
            # ndarray that owns its memory: never a view on the message.
            return flat.reshape(shape).astype(wire.newbyteorder("="), order="C", copy=True)
        except ValueError as exc:
            raise CodecError(f"array of shape {shape} cannot be built: {exc}") from None


def decode(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> object:
    """Decode bytes made by ``encode`` back into plain data.

    Safe on hostile input: raises only CodecError for malformed, truncated or
    over-limit bytes (more than ``max_bytes`` in all, containers nested deeper
    than ``max_depth``, more than ``max_items`` values and dict keys in all, or
    trailing bytes after the value). The result shares no memory with ``data``.
    """
    _check_depth_limit(max_depth)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode needs bytes, not {_type_name(data)}")
    try:
        view = memoryview(data).cast("B")
    except TypeError as exc:
        raise CodecError(f"message is not a contiguous byte buffer: {exc}") from None
    if len(view) > max_bytes:
        raise CodecError(f"message of {_size(len(view))} is over the {_size(max_bytes)} limit")
    dec = _Decoder(view, max_depth, max_items)
    out = dec.value(0)
    if dec.remaining():
        raise CodecError(f"{dec.remaining()} unexpected bytes after the value")
    return out


# ---------------------------------------------------------------------------
# Framing for pipes


def _write_all(fp: BinaryIO, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        # Raw (unbuffered) files may write only part of what they are given.
        n = fp.write(view)
        if n is None:
            raise BlockingIOError("the stream is non-blocking and not ready for writing")
        view = view[n:]


def _read_up_to(fp: BinaryIO, n: int) -> bytes:
    """Read n bytes, fewer only at EOF; memory grows only as bytes arrive."""
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = fp.read(min(n - got, _READ_CHUNK))
        if chunk is None:
            raise BlockingIOError("the stream is non-blocking and has no data ready")
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def frame_bytes(payload: bytes) -> bytes:
    """One whole frame (``MAGIC``, 8-byte big-endian length, payload) as bytes."""
    return _FRAME_HEADER.pack(MAGIC, len(payload)) + payload


def write_frame(fp: BinaryIO, payload: bytes) -> None:
    """Write ``MAGIC``, the 8-byte big-endian length and ``payload``, then flush."""
    _write_all(fp, _FRAME_HEADER.pack(MAGIC, len(payload)))
    _write_all(fp, payload)
    fp.flush()


def read_frame(fp: BinaryIO, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read one frame's payload, looping over short reads.

    Raises EOFError when the stream ends cleanly before a frame begins, and
    CodecError for a bad magic, a declared length over ``max_bytes`` (refused
    before any of it is read or allocated), or a stream that ends mid-frame.
    """
    header = _read_up_to(fp, _FRAME_HEADER.size)
    if not header:
        raise EOFError("the stream ended before a frame began")
    if len(header) < _FRAME_HEADER.size:
        raise TruncatedFrame(f"the stream ended inside a frame header ({len(header)} bytes)")
    magic, length = _FRAME_HEADER.unpack(header)
    if magic != MAGIC:
        raise CodecError(
            f"bad frame magic {magic!r} (expected {MAGIC!r}): something other than"
            " the codec wrote to the stream"
        )
    if length > max_bytes:
        raise CodecError(f"frame declares {_size(length)}, over the {_size(max_bytes)} limit")
    payload = _read_up_to(fp, length)
    if len(payload) < length:
        raise TruncatedFrame(f"the stream ended mid-frame ({len(payload)} of {length} bytes)")
    return payload


def send(fp: BinaryIO, obj: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Encode ``obj`` and write it as one frame."""
    write_frame(fp, encode(obj, max_bytes=max_bytes))


def recv(fp: BinaryIO, max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """Read one frame and decode it; EOFError at a clean end of stream."""
    return decode(read_frame(fp, max_bytes), max_bytes=max_bytes)
