"""Tests for jaxgen.data: every source's spec, values, seekable streams and errors."""

from __future__ import annotations

import gzip
import itertools
import os
import subprocess
import sys

import ml_collections
import numpy as np
import pytest

from jaxgen.data import DATASETS, DataSpec, Dataset, get_dataset
from jaxgen.data import arrays, images, mixtures
from jaxgen.errors import DataError

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def make(**fields) -> Dataset:
  return get_dataset(ml_collections.ConfigDict(fields))


def take(ds: Dataset, n: int, batch_size: int, *, seed: int, start: int = 0) -> list[dict]:
  return list(itertools.islice(ds.batches(batch_size, seed=seed, start=start), n))


def assert_batches_equal(a: dict, b: dict) -> None:
  np.testing.assert_array_equal(a["x"], b["x"])
  np.testing.assert_array_equal(a["y"], b["y"])


def check_seekable(ds: Dataset, batch_size: int, ks: tuple[int, ...]) -> None:
  """Batch k of an uninterrupted stream equals the first batch after resuming at k."""
  stream = take(ds, max(ks) + 1, batch_size, seed=5)
  for k in ks:
    assert_batches_equal(stream[k], take(ds, 1, batch_size, seed=5, start=k)[0])
  # The same seed replays the stream; another seed gives a different one.
  for a, b in zip(stream, take(ds, len(stream), batch_size, seed=5)):
    assert_batches_equal(a, b)
  other = take(ds, 2, batch_size, seed=6)
  assert not np.array_equal(stream[0]["x"], other[0]["x"])


def check_image_batch(batch: dict, spec: DataSpec, batch_size: int) -> None:
  x, y = batch["x"], batch["y"]
  assert x.shape == (batch_size, *spec.shape) and x.dtype == np.float32
  assert y.shape == (batch_size,) and y.dtype == np.int32
  assert x.min() >= -1.0 and x.max() <= 1.0
  assert x.min() < -0.9 and x.max() > 0.9, "images should span most of [-1, 1]"
  if spec.num_classes:
    assert 0 <= y.min() and y.max() < spec.num_classes
  else:
    assert not y.any()


def identity_dataset(n: int) -> arrays.ArrayDataset:
  """Example i has x = y = i, so batches reveal which examples they hold."""
  spec = DataSpec("ids", (1, 1, 1), 0, "image")
  x = np.arange(n).reshape(n, 1, 1, 1)
  return arrays.ArrayDataset(spec, x, np.arange(n), lambda v: v.astype(np.float32))


# Registry and config handling.


def test_unknown_name_lists_choices():
  with pytest.raises(ValueError) as e:
    make(name="cifar11")
  msg = str(e.value)
  assert "'cifar11'" in msg and "dataset.name" in msg
  for name in ("digits", "fashion_mnist", "mnist", "ring8", "grid25", "mixture", "tfds:<name>"):
    assert name in msg
  assert "\n" not in msg


def test_registry_holds_all_sources():
  assert set(DATASETS) == {
      "digits", "fashion_mnist", "mnist", "ring8", "grid25", "mixture", "tfds:<name>",
      "class_mixture", "domain_adaptation", "fashion_mnist_m", "mnist_m", "syn_digits",
      "multi_source", "scenes", "scenes_source", "scenes_target",
      *(f"fashion_mnist_rot{a}" for a in range(0, 90, 15)),
      *(f"fashion_mnist_colored{p}" for p in (10, 20, 90)),
  }


def test_bad_split_and_size_rejected():
  with pytest.raises(ValueError, match="dataset.split 'validation'"):
    make(name="digits", split="validation")
  with pytest.raises(ValueError, match="image_size"):
    make(name="digits", image_size=-1)


def test_bad_stream_args_rejected():
  ds = make(name="ring8")
  with pytest.raises(ValueError, match="batch_size"):
    ds.batches(0, seed=0)
  with pytest.raises(ValueError, match="start"):
    make(name="digits").batches(4, seed=0, start=-1)


def test_import_does_not_load_tensorflow_or_sklearn():
  code = "import sys, jaxgen.data; print('tensorflow' in sys.modules, 'sklearn' in sys.modules)"
  out = subprocess.run(
      [sys.executable, "-c", code], capture_output=True, text=True, check=True,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
  )
  assert out.stdout.split() == ["False", "False"]


# In-memory batching.


def test_one_epoch_sees_every_example_once():
  ds = identity_dataset(60)
  ys = np.concatenate([b["y"] for b in take(ds, 5, 12, seed=0)])
  np.testing.assert_array_equal(np.sort(ys), np.arange(60))


def test_batches_span_epoch_boundaries():
  ds = identity_dataset(20)
  ys = np.concatenate([b["y"] for b in take(ds, 6, 7, seed=1)])  # 42 = 2 epochs + 2
  for epoch in (ys[:20], ys[20:40]):
    np.testing.assert_array_equal(np.sort(epoch), np.arange(20))
  assert not np.array_equal(ys[:20], ys[20:40]), "each epoch is reshuffled"
  np.testing.assert_array_equal(ys, np.concatenate([
      arrays.epoch_permutation(1, e, 20) for e in range(3)])[:42])
  check_seekable(ds, 7, (2, 3, 5))  # batch 2 spans the first epoch boundary


def test_sample_without_replacement_when_possible():
  ds = identity_dataset(30)
  s = ds.sample(30, seed=0)["y"]
  np.testing.assert_array_equal(np.sort(s), np.arange(30))
  np.testing.assert_array_equal(s, ds.sample(30, seed=0)["y"])
  assert not np.array_equal(s, ds.sample(30, seed=1)["y"])
  counts = np.bincount(ds.sample(70, seed=0)["y"], minlength=30)
  assert counts.min() == 2 and counts.max() == 3


# Resizing.


@pytest.mark.parametrize("in_hw,out", [((8, 8), 32), ((28, 28), 32), ((28, 28), 16), ((9, 7), 5)])
def test_resize_matches_jax(in_hw, out):
  import jax  # pylint: disable=g-import-not-at-top

  x = np.random.default_rng(0).uniform(-1, 1, (2, *in_hw, 3)).astype(np.float32)
  want = jax.image.resize(x, (2, out, out, 3), "linear", antialias=True)
  np.testing.assert_allclose(images.resize(x, out, out), np.asarray(want), atol=1e-5)


def test_center_crop_takes_middle_square():
  x = np.arange(2 * 7 * 4 * 1).reshape(2, 7, 4, 1)
  np.testing.assert_array_equal(images.center_crop(x), x[:, 1:5])


# digits.


def test_digits_splits_and_spec():
  sizes = {s: make(name="digits", split=s).num_examples for s in ("train", "test", "all")}
  assert sizes == {"train": 1437, "test": 360, "all": 1797}
  ds = make(name="digits")
  assert ds.spec == DataSpec("digits", (8, 8, 1), 10, "image")
  check_image_batch(next(ds.batches(256, seed=0)), ds.spec, 256)
  # Stratified: every class has 20% (+-1) of its examples in the test split.
  all_counts = np.bincount(make(name="digits", split="all").sample(1797, seed=0)["y"])
  test_counts = np.bincount(make(name="digits", split="test").sample(360, seed=0)["y"])
  assert np.all(np.abs(test_counts - 0.2 * all_counts) <= 1)


def test_digits_values_are_scaled_pixels():
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

  pixels = np.sort(load_digits().images.reshape(1797, -1), axis=0)
  x = make(name="digits", split="all").sample(1797, seed=0)["x"].reshape(1797, -1)
  np.testing.assert_allclose(np.sort(x, axis=0), pixels / 8.0 - 1.0, atol=1e-6)


@pytest.mark.parametrize("size", [16, 32])
def test_digits_resized(size):
  ds = make(name="digits", image_size=size)
  assert ds.spec.shape == (size, size, 1)
  check_image_batch(next(ds.batches(128, seed=0)), ds.spec, 128)
  small = make(name="digits").sample(4, seed=3)
  big = ds.sample(4, seed=3)
  np.testing.assert_array_equal(small["y"], big["y"])
  np.testing.assert_allclose(images.resize(small["x"], size, size), big["x"], atol=1e-6)


def test_digits_seekable_across_epochs():
  # test split: 360 examples, so batch 5 of 64 (positions 320..383) spans epochs.
  check_seekable(make(name="digits", split="test"), 64, (1, 5, 6, 11))


# IDX (fashion_mnist / mnist).


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
  magic = (0x0800 | array.ndim) if magic is None else magic
  dims = np.array(array.shape, ">u4").tobytes()
  return magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def write_idx_dir(path, n_train=12, n_test=5, gz=False, shape=(6, 5)) -> dict:
  rng = np.random.default_rng(0)
  data = {}
  for prefix, n in (("train", n_train), ("t10k", n_test)):
    imgs = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    imgs[0, 0, 0], imgs[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    data[prefix] = (imgs, labels)
    files = {f"{prefix}-images-idx3-ubyte": imgs, f"{prefix}-labels-idx1-ubyte": labels}
    for stem, arr in files.items():
      raw = idx_bytes(arr)
      if gz:
        (path / (stem + ".gz")).write_bytes(gzip.compress(raw))
      else:
        (path / stem).write_bytes(raw)
  return data


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_idx_round_trip(tmp_path, gz, name):
  data = write_idx_dir(tmp_path, gz=gz)
  for split, prefix in (("train", "train"), ("test", "t10k")):
    ds = make(name=name, data_dir=str(tmp_path), split=split)
    imgs, labels = data[prefix]
    assert ds.spec == DataSpec(name, (6, 5, 1), 10, "image")
    assert ds.num_examples == len(labels)
    ds_all = ds.sample(len(labels), seed=0)
    order = np.argsort(ds_all["x"].reshape(len(labels), -1).sum(1))
    want = np.argsort((imgs.astype(np.float32) / 127.5 - 1).reshape(len(labels), -1).sum(1))
    np.testing.assert_allclose(ds_all["x"][order][..., 0], imgs[want] / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(ds_all["y"][order], labels[want])


def test_idx_resize_and_seek(tmp_path):
  write_idx_dir(tmp_path, n_train=12)
  ds = make(name="fashion_mnist", data_dir=str(tmp_path), image_size=32)
  assert ds.spec.shape == (32, 32, 1)
  check_image_batch(next(ds.batches(12, seed=0)), ds.spec, 12)
  check_seekable(ds, 5, (2, 4, 7))


def test_idx_missing_files_explain_how_to_get_them(tmp_path):
  missing = tmp_path / "nothing"
  with pytest.raises(DataError) as e:
    make(name="fashion_mnist", data_dir=str(missing))
  msg = str(e.value)
  assert str(missing) in msg and "train-images-idx3-ubyte[.gz]" in msg
  assert "apt-get install dataset-fashion-mnist" in msg and "data_dir" in msg
  with pytest.raises(DataError) as e:
    make(name="mnist", data_dir=str(missing), split="test")
  assert "t10k-images-idx3-ubyte" in str(e.value) and "download" in str(e.value)
  # Only the labels missing: the error names the labels file.
  write_idx_dir(tmp_path)
  os.remove(tmp_path / "train-labels-idx1-ubyte")
  with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
    make(name="mnist", data_dir=str(tmp_path))


def test_idx_corrupt_files_are_named(tmp_path):
  write_idx_dir(tmp_path)
  bad = tmp_path / "train-images-idx3-ubyte"
  bad.write_bytes(idx_bytes(np.zeros((3, 4, 4)), magic=0x0803 + 0x1000))
  with pytest.raises(ValueError, match=r"corrupt IDX file .*train-images-idx3-ubyte: magic"):
    make(name="fashion_mnist", data_dir=str(tmp_path))
  bad.write_bytes(idx_bytes(np.zeros((12, 6, 5)))[:-1])  # truncated
  with pytest.raises(ValueError, match="train-images-idx3-ubyte: header says shape"):
    make(name="fashion_mnist", data_dir=str(tmp_path))
  bad.write_bytes(idx_bytes(np.zeros((11, 6, 5))))  # 11 images, 12 labels
  with pytest.raises(ValueError, match="11 images but .* 12 labels"):
    make(name="fashion_mnist", data_dir=str(tmp_path))
  os.remove(bad)
  (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
  with pytest.raises(ValueError, match="not valid gzip"):
    make(name="fashion_mnist", data_dir=str(tmp_path))


@pytest.mark.skipif(
    not os.path.isdir(FASHION_DIR),
    reason=f"no {FASHION_DIR}: apt-get install dataset-fashion-mnist",
)
def test_real_fashion_mnist():
  train = make(name="fashion_mnist")
  test = make(name="fashion_mnist", split="test")
  assert (train.num_examples, test.num_examples) == (60000, 10000)
  assert train.spec == DataSpec("fashion_mnist", (28, 28, 1), 10, "image")
  batch = next(train.batches(512, seed=0))
  check_image_batch(batch, train.spec, 512)
  assert len(np.unique(batch["y"])) == 10
  ds32 = make(name="fashion_mnist", split="test", image_size=32)
  assert ds32.spec.shape == (32, 32, 1)
  check_image_batch(next(ds32.batches(64, seed=0)), ds32.spec, 64)


# TFDS (offline, through tfds.testing.mock_data).


@pytest.fixture(name="mock_tfds")
def fixture_mock_tfds():
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=20):
    yield


@pytest.mark.parametrize("in_memory", [True, False])
def test_tfds_cifar10(mock_tfds, in_memory):
  del mock_tfds
  ds = make(name="tfds:cifar10", in_memory=in_memory)
  assert ds.spec == DataSpec("tfds:cifar10", (32, 32, 3), 10, "image")
  assert ds.num_examples == 20
  check_image_batch(next(ds.batches(16, seed=0)), ds.spec, 16)
  check_seekable(ds, 8, (2, 3, 5))  # batch 2 covers positions 16..23: spans epochs
  # Each epoch holds every example once (compare with the in-memory copy) and
  # is shuffled anew.
  xs = np.concatenate([b["x"] for b in take(ds, 8, 5, seed=2)])
  every = make(name="tfds:cifar10").sample(20, seed=0)["x"]
  key = lambda a: a[np.lexsort(a.reshape(len(a), -1).T)]
  for epoch in (xs[:20], xs[20:]):
    np.testing.assert_array_equal(key(epoch), key(every))
  assert not np.array_equal(xs[:20], xs[20:])
  assert ds.sample(7, seed=0)["x"].shape == (7, 32, 32, 3)


@pytest.mark.parametrize("in_memory", [True, False])
def test_tfds_mnist_resized(mock_tfds, in_memory):
  del mock_tfds
  ds = make(name="tfds:mnist", split="test", image_size=32, in_memory=in_memory)
  assert ds.spec == DataSpec("tfds:mnist", (32, 32, 1), 10, "image")
  check_image_batch(next(ds.batches(20, seed=0)), ds.spec, 20)
  native = make(name="tfds:mnist", split="test", in_memory=in_memory)
  assert native.spec.shape == (28, 28, 1)
  a, b = take(native, 1, 6, seed=4)[0], take(ds, 1, 6, seed=4)[0]
  np.testing.assert_array_equal(a["y"], b["y"])
  np.testing.assert_allclose(images.resize(a["x"], 32, 32), b["x"], atol=1e-5)


@pytest.mark.parametrize("in_memory", [True, False])
def test_tfds_center_crop_unlabeled(mock_tfds, in_memory):
  del mock_tfds
  ds = make(name="tfds:celeb_a", center_crop=True, image_size=16, in_memory=in_memory)
  assert ds.spec == DataSpec("tfds:celeb_a", (16, 16, 3), 0, "image")  # no 'label'
  batch = next(ds.batches(4, seed=0))
  assert batch["x"].shape == (4, 16, 16, 3) and not batch["y"].any()
  assert make(name="tfds:celeb_a", center_crop=True).spec.shape == (178, 178, 3)


def test_tfds_bad_config(mock_tfds):
  del mock_tfds
  with pytest.raises(ValueError, match="needs a TFDS name"):
    make(name="tfds:")
  with pytest.raises(ValueError, match="no feature 'img'"):
    make(name="tfds:mnist", image_key="img")


# Gaussian mixtures.


def test_ring8_means():
  ds = make(name="ring8")
  assert ds.spec == DataSpec("ring8", (2,), 8, "points")
  np.testing.assert_allclose(np.linalg.norm(ds.means, axis=1), 2.0)
  angles = np.sort(np.arctan2(ds.means[:, 1], ds.means[:, 0]) % (2 * np.pi))
  np.testing.assert_allclose(np.diff(angles), np.pi / 4)
  np.testing.assert_allclose(ds.stds, 0.02)
  np.testing.assert_allclose(ds.weights, 1 / 8)
  other = make(name="ring8", radius=3.0, std=0.1)
  np.testing.assert_allclose(np.linalg.norm(other.means, axis=1), 3.0)
  np.testing.assert_allclose(other.stds, 0.1)


def test_grid25_means():
  ds = make(name="grid25")
  assert ds.spec == DataSpec("grid25", (2,), 25, "points")
  got = {tuple(m) for m in np.round(ds.means, 6)}
  assert got == {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
  np.testing.assert_allclose(ds.stds, 0.05)
  assert make(name="grid25", spacing=1.0).means.max() == pytest.approx(2.0)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_points_near_their_mode(name):
  ds = make(name=name)
  batch = next(ds.batches(4096, seed=0))
  x, y = batch["x"], batch["y"]
  assert x.dtype == np.float32 and y.dtype == np.int32 and x.shape == (4096, 2)
  assert 0 <= y.min() and y.max() < ds.spec.num_classes
  dist = np.linalg.norm(x - ds.means[y], axis=1) / ds.stds[y]
  assert dist.max() < 6
  assert 0.9 < np.mean(dist**2) / 2 < 1.1  # per-coordinate variance matches std**2
  assert np.all(np.bincount(y, minlength=ds.spec.num_classes) > 0)


def test_mixture_imbalanced_weights():
  ds = make(name="mixture", means=[[0, 0], [5, 0], [0, 5]], stds=[0.1, 0.2, 0.3],
            weights=[6, 3, 1])
  np.testing.assert_allclose(ds.weights, [0.6, 0.3, 0.1])
  n = 20000
  for batch in (ds.sample(n, seed=0), next(ds.batches(n, seed=0))):
    freq = np.bincount(batch["y"], minlength=3) / n
    tol = 4 * np.sqrt(ds.weights * (1 - ds.weights) / n)
    assert np.all(np.abs(freq - ds.weights) < tol), freq
    resid = (batch["x"] - ds.means[batch["y"]]) / ds.stds[batch["y"], None]
    np.testing.assert_allclose(resid.std(axis=0), 1.0, atol=0.05)
    assert np.abs(resid).max() < 6


def test_mixture_defaults_and_errors():
  ds = make(name="mixture", means=[[1, 1], [-1, -1]])
  np.testing.assert_allclose(ds.weights, [0.5, 0.5])
  assert ds.spec.num_classes == 2
  with pytest.raises(ValueError, match="dataset.means"):
    make(name="mixture")
  with pytest.raises(ValueError, match="dataset.weights"):
    make(name="mixture", means=[[0, 0], [1, 1]], weights=[1.0])
  with pytest.raises(ValueError, match="dataset.stds"):
    make(name="mixture", means=[[0, 0]], stds=-1.0)


def test_mixture_seekable():
  ds = make(name="ring8")
  check_seekable(ds, 32, (1, 4))
  assert isinstance(ds, mixtures.GaussianMixture)
  s = ds.sample(64, seed=5)
  assert not np.array_equal(s["x"], take(ds, 1, 64, seed=5)[0]["x"])
  np.testing.assert_array_equal(s["x"], ds.sample(64, seed=5)["x"])


def test_train_examples_keeps_one_fixed_subset_and_evaluation_keeps_the_whole_split():
  from jaxgen import config_base, evaluate  # pylint: disable=import-outside-toplevel
  from jaxgen.errors import ConfigError  # pylint: disable=import-outside-toplevel
  from jaxgen.trainers import build_trainer  # pylint: disable=import-outside-toplevel
  full = get_dataset(ml_collections.ConfigDict({"name": "digits"}))
  subset = get_dataset(ml_collections.ConfigDict({"name": "digits", "train_examples": 100}))
  again = get_dataset(ml_collections.ConfigDict({"name": "digits", "train_examples": 100}))
  x_full, x_sub = full.sample(full.num_examples, seed=0)["x"], subset.sample(100, seed=0)["x"]
  assert subset.num_examples == 100 and full.num_examples == 1437
  np.testing.assert_array_equal(x_sub, again.sample(100, seed=0)["x"])  # the same 100
  rows = {r.tobytes() for r in x_full}
  assert all(r.tobytes() in rows for r in x_sub)  # drawn from the training split
  assert len({r.tobytes() for r in x_sub}) == 100  # without repeats
  seen = np.concatenate([b["x"] for b in itertools.islice(subset.batches(50, seed=3), 4)])
  assert {r.tobytes() for r in seen} <= {r.tobytes() for r in x_sub}  # training sees only them
  with pytest.raises(ConfigError, match="train_examples=2000 exceeds the 1437"):
    get_dataset(ml_collections.ConfigDict({"name": "digits", "train_examples": 2000}))
  with pytest.raises(ConfigError, match="needs split 'train'"):
    get_dataset(ml_collections.ConfigDict({"name": "digits", "split": "test",
                                           "train_examples": 10}))
  config = config_base.base_config()
  config.dataset.train_examples = 100
  evaluator = evaluate.Evaluator(config, build_trainer(config, subset.spec), subset)
  assert evaluator.dataset.num_examples == 1437
