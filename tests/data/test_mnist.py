"""MNIST and Fashion-MNIST loaders against a real local HTTP server playing the mirrors."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from minigrad.data import DatasetError, load_fashion_mnist, load_mnist, mnist
from minigrad.data import download as download_module
from minigrad.data.download import cache_dir, sha256_file

N_TRAIN, N_TEST = 7, 3
FILES = tuple(mnist.MNIST_FILES)


def idx_gz(array: np.ndarray) -> bytes:
    header = struct.pack(f">HBB{array.ndim}I", 0, 8, array.ndim, *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def make_files(seed: int) -> tuple[dict[str, bytes], dict[str, np.ndarray]]:
    """Four tiny MNIST-format files: their gzipped bytes and the arrays inside them."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TRAIN),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TEST),
    }
    return {name: idx_gz(a) for name, a in arrays.items()}, arrays


def register(monkeypatch: pytest.MonkeyPatch, table: dict, files: dict[str, bytes]) -> None:
    """Make the hash table describe the tiny test files instead of the real ones."""
    for name, body in files.items():
        monkeypatch.setitem(table, name, (len(body), hashlib.sha256(body).hexdigest()))


@pytest.fixture
def fake(monkeypatch, tmp_path, mirror_server):
    """Tiny MNIST files served by the local server; the cache is under tmp_path."""
    files, arrays = make_files(0)
    register(monkeypatch, mnist.MNIST_FILES, files)
    mirror_server.files.update(files)
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", mirror_server.url("good"))
    return SimpleNamespace(server=mirror_server, arrays=arrays, bodies=files)


def use_mirrors(monkeypatch: pytest.MonkeyPatch, *urls: str) -> None:
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", " ".join(urls))


def cache_listing() -> list[str]:
    folder = cache_dir("mnist")
    return sorted(os.listdir(folder)) if folder.exists() else []


def check_arrays(images: np.ndarray, labels: np.ndarray, arrays: dict, split: str) -> None:
    prefix = "train" if split == "train" else "t10k"
    expected_images = arrays[f"{prefix}-images-idx3-ubyte.gz"]
    assert images.dtype == np.float32 and labels.dtype == np.int64
    assert images.shape == (len(expected_images), 1, 28, 28)
    np.testing.assert_array_equal(images[:, 0] * 255, expected_images.astype(np.float32))
    np.testing.assert_array_equal(labels, arrays[f"{prefix}-labels-idx1-ubyte.gz"])
    assert images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("split", ["train", "test"])
def test_good_download(fake, split):
    images, labels = load_mnist(split, download=True)
    check_arrays(images, labels, fake.arrays, split)
    prefix = "train" if split == "train" else "t10k"
    wanted = sorted(n for n in FILES if n.startswith(prefix))
    assert cache_listing() == wanted  # no temporary files left behind
    for name in wanted:
        assert (cache_dir("mnist") / name).read_bytes() == fake.bodies[name]


def test_cached_hit_needs_no_network(fake, monkeypatch, dead_mirror):
    load_mnist("test", download=True)
    served = len(fake.server.requests)
    use_mirrors(monkeypatch, dead_mirror)
    for download in (False, True):
        images, labels = load_mnist("test", download=download)
        check_arrays(images, labels, fake.arrays, "test")
    assert len(fake.server.requests) == served


def test_missing_files_without_download_say_where_and_how(fake):
    with pytest.raises(DatasetError) as info:
        load_mnist("train")
    message = str(info.value)
    assert str(cache_dir("mnist") / "train-images-idx3-ubyte.gz") in message
    assert "download=True" in message
    assert fake.server.requests == []


def test_corrupt_cached_file_is_refetched(fake):
    load_mnist("train", download=True)
    path = cache_dir("mnist") / "train-labels-idx1-ubyte.gz"
    body = bytearray(path.read_bytes())
    body[-5] ^= 0xFF  # same size, different hash
    path.write_bytes(bytes(body))
    with pytest.raises(DatasetError, match="sha256 mismatch") as info:
        load_mnist("train", download=False)
    assert str(path) in str(info.value) and "download=True" in str(info.value)
    images, labels = load_mnist("train", download=True)
    check_arrays(images, labels, fake.arrays, "train")
    assert path.read_bytes() == fake.bodies[path.name]


def test_truncated_cached_file_is_refetched(fake):
    load_mnist("test", download=True)
    path = cache_dir("mnist") / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(DatasetError, match="size is 10 bytes"):
        load_mnist("test")
    check_arrays(*load_mnist("test", download=True), fake.arrays, "test")


def test_html_page_with_status_200_is_rejected(fake, monkeypatch):
    use_mirrors(monkeypatch, fake.server.url("html"))
    with pytest.raises(DatasetError) as info:
        load_mnist("test", download=True)
    message = str(info.value)
    assert fake.server.url("html") + "t10k-images-idx3-ubyte.gz" in message
    assert "HTML page" in message
    assert cache_listing() == []


def test_connection_cut_mid_file_is_rejected(fake, monkeypatch):
    use_mirrors(monkeypatch, fake.server.url("cut"))
    with pytest.raises(DatasetError, match="connection closed after") as info:
        load_mnist("test", download=True)
    assert fake.server.url("cut") + "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert cache_listing() == []


@pytest.mark.parametrize("bad", ["dead", "html", "cut", "missing"])
def test_bad_first_mirror_falls_back_to_the_next(fake, monkeypatch, dead_mirror, bad):
    first = dead_mirror if bad == "dead" else fake.server.url(bad)
    use_mirrors(monkeypatch, first, fake.server.url("good"))
    check_arrays(*load_mnist("train", download=True), fake.arrays, "train")
    assert cache_listing() == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert "/good/train-images-idx3-ubyte.gz" in fake.server.requests


def test_error_lists_every_mirror_tried(fake, monkeypatch, dead_mirror):
    mirrors = [
        dead_mirror,
        fake.server.url("html"),
        fake.server.url("cut"),
        fake.server.url("missing"),
    ]
    use_mirrors(monkeypatch, *mirrors)
    with pytest.raises(DatasetError, match="tried 4 mirror") as info:
        load_mnist("test", download=True)
    message = str(info.value)
    for mirror in mirrors:
        assert mirror + "t10k-images-idx3-ubyte.gz" in message
    assert "Connection refused" in message or "URLError" in message
    assert "HTTP Error 404" in message
    assert cache_listing() == []


def test_a_server_that_trickles_bytes_is_given_up_by_the_overall_deadline(fake, monkeypatch):
    # Each byte comes well within the per-read timeout; only the overall deadline can stop it.
    monkeypatch.setattr(download_module, "DEFAULT_TIMEOUT", 1.0)
    use_mirrors(monkeypatch, fake.server.url("trickle"))
    began = time.monotonic()
    with pytest.raises(DatasetError, match=r"gave up after 1 s with \d+ of \d+ bytes") as info:
        load_mnist("test", download=True)
    assert time.monotonic() - began < 10
    assert "slower than 20 kB/s" in str(info.value)
    assert cache_listing() == []


def test_interrupt_is_not_a_mirror_failure_and_leaves_nothing(fake, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_mnist("test", download=True)
    assert cache_listing() == []


def test_root_argument_holds_one_folder_per_dataset(fake, tmp_path):
    load_mnist("test", root=tmp_path / "data", download=True)
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert cache_listing() == []


def test_fashion_mnist_has_its_own_folder(fake, monkeypatch):
    load_mnist("test", download=True)
    files, arrays = make_files(1)
    register(monkeypatch, mnist.FASHION_MNIST_FILES, files)
    fake.server.files.clear()
    fake.server.files.update(files)
    monkeypatch.setenv("MINIGRAD_FASHION_MNIST_MIRRORS", fake.server.url("good"))
    check_arrays(*load_fashion_mnist("test", download=True), arrays, "test")
    assert cache_dir("fashion-mnist") != cache_dir("mnist")
    check_arrays(*load_mnist("test"), fake.arrays, "test")  # MNIST's files untouched


def test_image_and_label_counts_must_agree(fake, monkeypatch):
    files = dict(fake.bodies)
    files["t10k-labels-idx1-ubyte.gz"] = idx_gz(np.zeros(N_TEST + 1))
    register(monkeypatch, mnist.MNIST_FILES, files)
    fake.server.files.update(files)
    with pytest.raises(DatasetError, match=f"has {N_TEST} images but .* has {N_TEST + 1} labels"):
        load_mnist("test", download=True)


def test_label_out_of_range_is_an_error(fake, monkeypatch):
    files = dict(fake.bodies)
    files["t10k-labels-idx1-ubyte.gz"] = idx_gz(np.array([1, 12, 3]))
    register(monkeypatch, mnist.MNIST_FILES, files)
    fake.server.files.update(files)
    with pytest.raises(DatasetError, match="label 12 is out of range"):
        load_mnist("test", download=True)


def test_labels_file_in_place_of_images_is_a_bad_magic(fake, monkeypatch):
    files = dict(fake.bodies)
    files["t10k-images-idx3-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"]
    register(monkeypatch, mnist.MNIST_FILES, files)
    fake.server.files.update(files)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz: bad magic number 2049"):
        load_mnist("test", download=True)


def test_unknown_split_is_a_value_error():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation")


def test_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path / "mg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("mnist") == tmp_path / "mg" / "mnist"
    monkeypatch.delenv("MINIGRAD_HOME")
    assert cache_dir("mnist") == tmp_path / "xdg" / "minigrad" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir("fashion-mnist") == tmp_path / "home" / ".cache" / "minigrad" / "fashion-mnist"


def test_tables_hold_the_published_sizes():
    assert set(mnist.MNIST_FILES) == set(mnist.FASHION_MNIST_FILES) == set(FILES)
    assert mnist.MNIST_FILES["train-images-idx3-ubyte.gz"][0] == 9912422
    assert mnist.FASHION_MNIST_FILES["t10k-labels-idx1-ubyte.gz"][0] == 5148
    for size, digest in [*mnist.MNIST_FILES.values(), *mnist.FASHION_MNIST_FILES.values()]:
        assert size > 0 and len(digest) == 64 and int(digest, 16) >= 0


@pytest.mark.network  # skipped unless pytest is given --run-network (tests/conftest.py)
@pytest.mark.parametrize(
    ("loader", "table", "name"),
    [
        (load_mnist, mnist.MNIST_FILES, "mnist"),
        (load_fashion_mnist, mnist.FASHION_MNIST_FILES, "fashion-mnist"),
    ],
)
def test_real_download_matches_the_published_hashes(tmp_path: Path, loader, table, name):
    for split, count in [("train", 60000), ("test", 10000)]:
        images, labels = loader(split, root=tmp_path, download=True)
        assert images.shape == (count, 1, 28, 28) and labels.shape == (count,)
        assert np.bincount(labels, minlength=10).min() > count // 20
    for filename, (size, digest) in table.items():
        path = tmp_path / name / filename
        assert path.stat().st_size == size and sha256_file(path) == digest
