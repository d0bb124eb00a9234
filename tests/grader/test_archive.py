"""Unpacking uploads: good archives, folders and files; every hostile shape refused cleanly."""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from grader.archive import SubmissionError, unpack_submission

MiB = 1024 * 1024
# Field offsets in the zip format (APPNOTE 4.3.7 local header, 4.3.12 central header).
CENTRAL_SIG = b"PK\x01\x02"
LOCAL_SIG = b"PK\x03\x04"
CENTRAL_FLAGS, CENTRAL_CRC, CENTRAL_USIZE, CENTRAL_NAME_LEN = 8, 16, 24, 28
CENTRAL_EXTERNAL_ATTR, CENTRAL_NAME = 38, 46
LOCAL_FLAGS, LOCAL_USIZE, LOCAL_NAME_LEN, LOCAL_NAME = 6, 22, 26, 30


def zip_bytes(entries: list[tuple[str | zipfile.ZipInfo, bytes]], **kwargs: object) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we plant
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, **kwargs) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def patch(data: bytes, sig: bytes, offset: int, fmt: str, value: int, which: int = 0) -> bytes:
    """Overwrite one field of the ``which``-th header with signature ``sig``."""
    at = -1
    for _ in range(which + 1):
        at = data.index(sig, at + 1)
    out = bytearray(data)
    struct.pack_into(fmt, out, at + offset, value)
    return bytes(out)


def replace_name(data: bytes, old: bytes, new: bytes) -> bytes:
    """Rename an entry in both headers (same length, so no offsets move)."""
    assert len(old) == len(new) and data.count(old) == 2
    return data.replace(old, new)


def symlink_info(name: str, mode: int = stat.S_IFLNK | 0o777) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the high 16 bits of external_attr are st_mode
    info.external_attr = mode << 16
    return info


def source_text(lines: int) -> bytes:
    """Python-like text that deflates about 4:1, like real homework."""
    return "".join(f"w{i} = relu(x{i % 7}) * {i / 3:.4f}\n" for i in range(lines)).encode()


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def upload(tmp_path: Path):
    """Write upload bytes into tmp_path/in, return its path; dest is tmp_path/out."""
    inbox = tmp_path / "in"
    inbox.mkdir()

    def make(data: bytes, name: str = "submission.zip") -> Path:
        path = inbox / name
        path.write_bytes(data)
        return path

    return make


def assert_refused(src: Path, dest: Path, match: str, **limits: object) -> None:
    """Refused with ``match``, dest absent or empty, nothing else of tmp changed."""
    root = dest.parent
    before = tree(root)
    with pytest.raises(SubmissionError, match=match):
        unpack_submission(src, dest, **limits)
    assert not dest.exists() or list(dest.iterdir()) == []
    assert tree(root) == before


# ---------------------------------------------------------------------------
# Good uploads


def test_good_zip_is_unpacked(upload, tmp_path: Path) -> None:
    entries = [
        ("relu.py", b"def relu(x):\n    return x\n"),
        ("layers/conv.py", b"# conv\n"),
        ("notes.txt", "naïve ünïcode\n".encode()),
    ]
    dest = tmp_path / "out"
    got = unpack_submission(upload(zip_bytes(entries)), dest)
    assert got == ["layers/conv.py", "notes.txt", "relu.py"]
    assert tree(dest) == {name: data for name, data in entries}


def test_single_top_folder_is_stripped_and_junk_skipped(upload, tmp_path: Path) -> None:
    entries = [
        (zipfile.ZipInfo("hw1/"), b""),
        ("hw1/relu.py", b"relu"),
        ("hw1/sub/helpers.py", b"helpers"),
        ("hw1/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("hw1/__pycache__/relu.cpython-311.pyc", b"\x00" * 16),
        ("hw1/sub/old.pyc", b"\x00" * 16),
        ("__MACOSX/hw1/._relu.py", b"\x00\x05\x16\x07"),
    ]
    dest = tmp_path / "out"
    assert unpack_submission(upload(zip_bytes(entries)), dest) == ["relu.py", "sub/helpers.py"]
    assert tree(dest) == {"relu.py": b"relu", "sub/helpers.py": b"helpers"}


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a/x.py", "b/y.py"], ["a/x.py", "b/y.py"]),  # two top folders: kept
        (["x.py"], ["x.py"]),  # a lone file is not a folder
        (["hw/x.py", "y.py"], ["hw/x.py", "y.py"]),  # a file beside the folder
        (["hw/hw/x.py"], ["hw/x.py"]),  # stripped once only
        (["./hw/x.py", "hw//y.py"], ["x.py", "y.py"]),  # '.' and empty parts dropped
    ],
)
def test_top_folder_stripping_rules(upload, tmp_path: Path, names, expected) -> None:
    src = upload(zip_bytes([(n, b"#") for n in names]))
    assert unpack_submission(src, tmp_path / "out") == expected


def test_zip_is_recognised_by_content_not_name(upload, tmp_path: Path) -> None:
    src = upload(zip_bytes([("a.py", b"A")]), name="upload.bin")
    assert unpack_submission(src, tmp_path / "out") == ["a.py"]


def test_utf8_names_without_the_utf8_flag_are_accepted(upload, tmp_path: Path) -> None:
    # Info-ZIP on Linux writes UTF-8 bytes without setting the flag.
    data = zip_bytes([("r\xe9lu.py", b"x")])  # zipfile sets the flag for non-ASCII
    data = patch(data, CENTRAL_SIG, CENTRAL_FLAGS, "<H", 0)
    data = patch(data, LOCAL_SIG, LOCAL_FLAGS, "<H", 0)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() != ["r\xe9lu.py"]  # cp437 mojibake
    assert unpack_submission(upload(data), tmp_path / "out") == ["r\xe9lu.py"]


def test_py_file_is_copied_under_its_own_name(upload, tmp_path: Path) -> None:
    src = upload(b"def relu(x):\n    return x\n", name="relu.py")
    dest = tmp_path / "out"
    assert unpack_submission(src, dest) == ["relu.py"]
    assert (dest / "relu.py").read_bytes() == src.read_bytes()


def test_other_single_files_are_copied_too(upload, tmp_path: Path) -> None:
    src = upload(b'{"cells": []}', name="hw1.ipynb")
    assert unpack_submission(src, tmp_path / "out") == ["hw1.ipynb"]


def test_folder_is_copied_recursively_skipping_junk(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "main.py").write_bytes(b"main")
    (src / "pkg" / "mod.py").write_bytes(b"mod")
    (src / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00")
    (src / ".DS_Store").write_bytes(b"\x00")
    dest = tmp_path / "out"
    dest.mkdir()  # an existing empty dest is fine
    assert unpack_submission(src, dest) == ["main.py", "pkg/mod.py"]
    assert tree(dest) == {"main.py": b"main", "pkg/mod.py": b"mod"}


def test_small_compressible_files_do_not_trip_the_ratio(upload, tmp_path: Path) -> None:
    src = upload(zip_bytes([("blank.py", b" " * 1000), ("zeros.txt", b"\x00" * 1024)]))
    assert unpack_submission(src, tmp_path / "out") == ["blank.py", "zeros.txt"]


def test_non_empty_dest_is_a_caller_error(upload, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        unpack_submission(upload(b"x", name="a.py"), dest)
    assert tree(dest) == {"keep.txt": b"mine"}


# ---------------------------------------------------------------------------
# Hostile or broken zips


def build_hostile(kind: str) -> tuple[bytes, str]:
    """The bytes of one hostile zip and the words its refusal must contain."""
    ok = ("ok.py", b"fine")
    if kind == "zip slip":
        return zip_bytes([ok, ("../../etc/passwd", b"root::0:0")]), (
            "entry '../../etc/passwd' escapes the submission folder"
        )
    if kind == "slip inside a folder":
        return zip_bytes(
            [("hw/a.py", b"a"), ("hw/../../evil.py", b"x")]
        ), "'hw/../../evil.py' escapes"
    if kind == "absolute path":
        return zip_bytes([ok, (zipfile.ZipInfo("/etc/cron.d/x"), b"x")]), (
            "'/etc/cron.d/x' is an absolute path"
        )
    if kind == "drive letter":
        return zip_bytes([ok, ("C:/Windows/x.py", b"x")]), "'C:/Windows/x.py' is an absolute path"
    if kind == "backslashes":
        return zip_bytes([ok, ("..\\..\\evil.py", b"x")]), "uses backslashes"
    if kind == "empty name":
        return zip_bytes([ok, (zipfile.ZipInfo(""), b"x")]), "empty name"
    if kind == "nul in name":
        data = replace_name(
            zip_bytes([ok, ("evil.pyXtxt", b"x")]), b"evil.pyXtxt", b"evil.py\x00txt"
        )
        return data, "control characters"
    if kind == "symlink entry":
        return zip_bytes([ok, (symlink_info("link.py"), b"/etc/passwd")]), (
            "'link.py' is a symbolic link"
        )
    if kind == "fifo entry":
        return zip_bytes([ok, (symlink_info("pipe", stat.S_IFIFO | 0o644), b"")]), (
            "'pipe' is not a regular file"
        )
    if kind == "device entry":
        return zip_bytes([ok, (symlink_info("dev", stat.S_IFCHR | 0o644), b"")]), (
            "'dev' is not a regular file"
        )
    if kind == "duplicate names":
        return zip_bytes([ok, ("a.py", b"1"), ("a.py", b"2")]), "'a.py' appears twice"
    if kind == "duplicate after cleaning":
        return zip_bytes([ok, ("a.py", b"1"), ("./a.py", b"2")]), "'./a.py' appears twice"
    if kind == "file and folder":
        return zip_bytes([("a", b"1"), ("a/b.py", b"2")]), "'a' is both a file and a folder"
    if kind == "encrypted":
        data = zip_bytes([ok, ("secret.py", b"x" * 50)])
        data = patch(data, CENTRAL_SIG, CENTRAL_FLAGS, "<H", 0x1, which=1)
        data = patch(data, LOCAL_SIG, LOCAL_FLAGS, "<H", 0x1, which=1)
        return data, "'secret.py' is encrypted"
    if kind == "name not UTF-8":
        data = replace_name(zip_bytes([ok, ("bad_X.py", b"x")]), b"bad_X.py", b"bad_\xff.py")
        return data, r"entry b'bad_\\xff.py' has a name that is not valid UTF-8"
    if kind == "UTF-8 flag on a bad name":
        data = replace_name(zip_bytes([ok, ("bad_X.py", b"x")]), b"bad_X.py", b"bad_\xff.py")
        data = patch(data, CENTRAL_SIG, CENTRAL_FLAGS, "<H", 0x800, which=1)
        return data, "not valid UTF-8"
    if kind == "only junk":
        return zip_bytes([("__MACOSX/._a.py", b"x"), (".DS_Store", b"x")]), "holds no files"
    raise AssertionError(kind)


HOSTILE = [
    "zip slip",
    "slip inside a folder",
    "absolute path",
    "drive letter",
    "backslashes",
    "empty name",
    "nul in name",
    "symlink entry",
    "fifo entry",
    "device entry",
    "duplicate names",
    "duplicate after cleaning",
    "file and folder",
    "encrypted",
    "name not UTF-8",
    "UTF-8 flag on a bad name",
    "only junk",
]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_zip_is_refused_before_anything_is_written(upload, tmp_path: Path, kind) -> None:
    data, message = build_hostile(kind)
    assert_refused(upload(data), tmp_path / "out", message)


@pytest.mark.parametrize("kind", HOSTILE)
def test_refusal_empties_an_existing_dest(upload, tmp_path: Path, kind) -> None:
    data, message = build_hostile(kind)
    dest = tmp_path / "out"
    dest.mkdir()
    assert_refused(upload(data), dest, message)
    assert dest.is_dir()


def test_too_many_files(upload, tmp_path: Path) -> None:
    data = zip_bytes([(f"f{i}.py", b"#") for i in range(5)])
    assert unpack_submission(upload(data), tmp_path / "ok", max_files=5) == [
        f"f{i}.py" for i in range(5)
    ]
    assert_refused(upload(data), tmp_path / "out", "more than 4 files", max_files=4)


def test_declared_size_over_the_limit(upload, tmp_path: Path) -> None:
    data = zip_bytes([("a.bin", os.urandom(3000)), ("b.bin", os.urandom(3000))])
    assert_refused(
        upload(data),
        tmp_path / "out",
        "archive expands to 5.9 KiB, over the 4 KiB limit",
        max_total_bytes=4096,
    )


def test_zip_bomb_by_ratio(upload, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.py", b"fine")
        with zf.open("weights.npy", "w") as entry:
            zeros = bytes(MiB)
            for _ in range(16):  # 16 MiB of zeros deflate to ~16 KiB
                entry.write(zeros)
    assert len(buf.getvalue()) < 100 * 1024
    assert_refused(
        upload(buf.getvalue()), tmp_path / "out", r"'weights.npy' expands from .* to 16 MiB"
    )


def test_zip_bomb_spread_over_many_small_entries(upload, tmp_path: Path) -> None:
    # Each entry is under the per-entry floor; the archive as a whole is not.
    data = zip_bytes([(f"z{i}.txt", bytes(1000)) for i in range(50)])
    assert_refused(upload(data), tmp_path / "out", "the archive expands from", max_ratio=20)


def test_header_understating_the_size_is_caught(upload, tmp_path: Path) -> None:
    payload = b"print('hello')\n" * 4000  # 60 KB that compresses well but not absurdly
    data = zip_bytes([("big.py", payload)])
    data = patch(data, CENTRAL_SIG, CENTRAL_USIZE, "<I", 100)
    data = patch(data, LOCAL_SIG, LOCAL_USIZE, "<I", 100)
    # The zip library stops at the declared size, so the checksum of what it
    # read cannot match; our own cap is exercised by the endless stream below.
    assert_refused(upload(data), tmp_path / "out", "entry 'big.py' is damaged")


def test_header_overstating_the_size_is_caught(upload, tmp_path: Path) -> None:
    data = zip_bytes([("small.py", source_text(300))])
    data = patch(data, CENTRAL_SIG, CENTRAL_USIZE, "<I", 50_000)
    data = patch(data, LOCAL_SIG, LOCAL_USIZE, "<I", 50_000)
    assert_refused(upload(data), tmp_path / "out", "'small.py' holds less than")


def test_stream_cap_holds_even_if_the_zip_library_trusted_the_header(
    upload, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a decompressor that never stops: only our own byte count can end it.
    def endless(self, n: int = -1) -> bytes:
        return bytes(max(n, 1))

    data = zip_bytes([("a.py", source_text(2000)[:2000])])
    monkeypatch.setattr(zipfile.ZipExtFile, "read", endless)
    assert_refused(
        upload(data), tmp_path / "out", "'a.py' holds more than the 2 KiB its header declares"
    )


def test_corrupt_compressed_data_is_a_submission_error(upload, tmp_path: Path) -> None:
    payload = os.urandom(2000).hex().encode()  # compresses ~2:1, so deflate data is long
    data = bytearray(zip_bytes([("a.py", payload)]))
    start = LOCAL_NAME + len("a.py")
    for i in range(start + 100, start + 140):
        data[i] ^= 0x55
    assert_refused(upload(bytes(data)), tmp_path / "out", r"entry 'a.py' is damaged")


@pytest.mark.parametrize(
    ("cut", "name"),
    [(0.5, "submission.zip"), (0.9, "upload.bin"), (0.0, "empty.zip")],
)
def test_truncated_zip_is_a_submission_error(upload, tmp_path: Path, cut: float, name: str) -> None:
    data = zip_bytes([("a.py", os.urandom(3000)), ("b.py", b"b")])
    src = upload(data[: int(len(data) * cut)], name=name)
    if cut == 0.9:  # no zip name, no end record: only the leading signature says "zip"
        assert not zipfile.is_zipfile(src)
    assert_refused(src, tmp_path / "out", "not a readable zip archive")


# ---------------------------------------------------------------------------
# Hostile folders and files


def test_folder_with_a_symlink_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.py").write_text("a")
    (src / "passwd.py").symlink_to("/etc/passwd")
    assert_refused(src, tmp_path / "out", "'passwd.py' is a symbolic link")


def test_folder_with_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "etc").symlink_to("/etc", target_is_directory=True)
    assert_refused(src, tmp_path / "out", "'sub/etc' is a symbolic link")


def test_folder_with_a_fifo_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    os.mkfifo(src / "pipe")
    assert_refused(src, tmp_path / "out", "'pipe' is not a regular file")


def test_folder_caps(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.bin").write_bytes(bytes(2000))
    assert_refused(src, tmp_path / "out", "more than 2 files", max_files=2)
    assert_refused(src, tmp_path / "out", "over the 5 KiB limit", max_total_bytes=5 * 1024)


def test_symlink_upload_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "relu.py"
    src.symlink_to("/etc/passwd")
    assert_refused(src, tmp_path / "out", "is a symbolic link")


def test_large_single_file_is_refused(upload, tmp_path: Path) -> None:
    src = upload(bytes(5000), name="weights.npy")
    assert_refused(
        src,
        tmp_path / "out",
        "'weights.npy' is 4.9 KiB, over the 4 KiB limit",
        max_total_bytes=4096,
    )
