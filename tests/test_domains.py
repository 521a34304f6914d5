"""The shifted domains (jaxgen/data/domains.py, domain_recipes.py, fonts.py)."""

import os

import ml_collections
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jaxgen import config_base, data
from jaxgen.data import domain_recipes as recipes
from jaxgen.data import domains, fonts
from jaxgen.data.digits import load_digits_split
from jaxgen.data.images import resize
from jaxgen.errors import ConfigError

FASHION_DIRS = ["/usr/share/datasets/fashion-mnist",
                os.path.expanduser("~/.cache/jaxgen/datasets/fashion-mnist")]
FASHION_DIR = next((d for d in FASHION_DIRS if os.path.isdir(d)), None)
needs_fashion = pytest.mark.skipif(FASHION_DIR is None,
                                   reason="apt-get install dataset-fashion-mnist")


def da_config(source="digits", target="digits", **fields) -> ml_collections.ConfigDict:
  config = config_base.domain_adaptation_config("da_source_only", source, target,
                                                image_size=8).dataset
  config.update(fields)
  return config


def grey_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
  """The first n scikit-learn digits as uint8 [n, 8, 8, 1] in 0..255."""
  x, y = load_digits_split("all")
  return (x[:n].astype(np.uint16) * 255 // 16).astype(np.uint8), y[:n]


def pixels(x: np.ndarray, size: int) -> np.ndarray:
  return resize(x.astype(np.float32) / 255.0, size, size).reshape(len(x), -1)


def stroke_map(x: np.ndarray, size: int) -> np.ndarray:
  """Grey |pixel - median| scaled to max 1: blind to colours and to dark-on-light."""
  g = pixels(x.mean(-1, keepdims=True), size)
  g = np.abs(g - np.median(g, axis=1, keepdims=True))
  return g / (g.max(axis=1, keepdims=True) + 1e-6)


def shift_gap(source, target, features, n_train: int = 600):
  """(held-out source accuracy, target accuracy) of a logistic regression fit on the source."""
  (xs, ys), (xt, yt) = source, target
  clf = LogisticRegression(max_iter=300).fit(features(xs[:n_train]), ys[:n_train])
  return clf.score(features(xs[n_train:]), ys[n_train:]), clf.score(features(xt), yt)


def test_blend_with_one_constant_photo_is_the_absolute_difference():
  """MNIST-M's |x - patch|: with a single flat photo every patch is that colour."""
  x, _ = grey_digits(5)
  photo = np.zeros((40, 50, 3), np.uint8) + np.array([10, 200, 90], np.uint8)
  out = recipes.blend_with_photos(x, np.random.default_rng(0), photos=(photo,))
  expected = np.abs(np.repeat(x, 3, -1).astype(int) - np.array([10, 200, 90]))
  np.testing.assert_array_equal(out, expected)


def test_blend_is_seeded_and_uses_the_photos():
  x, _ = grey_digits(50)
  a = recipes.blend_with_photos(x, np.random.default_rng(1))
  b = recipes.blend_with_photos(x, np.random.default_rng(1))
  c = recipes.blend_with_photos(x, np.random.default_rng(2))
  np.testing.assert_array_equal(a, b)
  assert a.shape == (50, 8, 8, 3) and a.dtype == np.uint8
  assert np.mean(a != c) > 0.5  # other crops
  assert len(recipes.photo_bank()) == len(recipes.PHOTO_FILES) == 20


def test_rotation_by_90_degrees_is_rot90_and_colour_flip_rates():
  x, y = grey_digits(10)
  np.testing.assert_array_equal(recipes.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)))
  labels = np.random.default_rng(0).integers(0, 10, 20000)
  images = np.full((20000, 2, 2, 1), 7, np.uint8)
  out, binary = recipes.colour_by_label(images, labels, 0.1, np.random.default_rng(0))
  green = out[:, 0, 0, 1] > 0
  assert abs(np.mean(binary != (labels >= 5)) - 0.25) < 0.01  # DomainBed's label noise
  assert abs(np.mean(green != binary) - 0.1) < 0.01           # colour flipped w.p. 0.1
  assert np.all(out[:, :, :, 2] == 0) and np.all(out.max(-1) == 7)


def test_label_shift_keeps_the_stated_share_of_each_class():
  labels = np.repeat(np.arange(10), [100, 50, 30, 30, 80, 10, 10, 10, 41, 10])
  idx = recipes.label_shift_indices(labels, (1, 4, 8), (1.0, 0.5, 0.1),
                                    np.random.default_rng(0))
  counts = np.bincount(labels[idx], minlength=10)
  assert counts[[1, 4, 8]].tolist() == [50, 40, 4] and counts.sum() == 94
  np.testing.assert_array_equal(recipes.relabel(labels[idx], (1, 4, 8)),
                                np.repeat([0, 1, 2], [50, 40, 4]))


def test_syn_digits_are_deterministic_balanced_rgb_and_read_as_digits():
  x, y = fonts.syn_digits(200, seed=3, image_size=16)
  x2, y2 = fonts.syn_digits.__wrapped__(200, seed=3, image_size=16)  # not the memo
  np.testing.assert_array_equal(x, x2)
  np.testing.assert_array_equal(y, y2)
  assert x.shape == (200, 16, 16, 3) and x.dtype == np.uint8
  assert np.bincount(y).tolist() == [20] * 10
  assert len(fonts.font_paths()) >= 10


def test_syn_digits_to_real_digits_is_a_real_shift():
  """A linear classifier fit on 600 rendered digits (colour- and polarity-blind 8x8
  features): > 50% on held-out rendered ones (58% measured), and at least 15 points lower
  on scikit-learn's handwritten digits (32% measured)."""
  source = fonts.syn_digits(900, seed=0)
  xt, yt = load_digits_split("test")
  target = (recipes.to_rgb((xt.astype(np.uint16) * 255 // 16).astype(np.uint8)), yt)
  src_acc, tgt_acc = shift_gap(source, target, lambda x: stroke_map(x, 8))
  assert src_acc > 0.5 and tgt_acc < src_acc - 0.15, (src_acc, tgt_acc)


@needs_fashion
def test_fashion_mnist_m_builder_and_its_shift():
  """The registered dataset: documented shape, labels and range, deterministic; a
  classifier fit on Fashion-MNIST loses > 20 points on Fashion-MNIST-M."""
  x, y = domains.load_domain("fashion_mnist_m", "test", FASHION_DIR, 0)
  x_again, _ = domains.load_domain.__wrapped__("fashion_mnist_m", "test", FASHION_DIR, 0)
  np.testing.assert_array_equal(x, x_again)
  assert x.shape == (10000, 28, 28, 3) and x.dtype == np.uint8 and set(y) == set(range(10))
  grey, _ = domains.load_domain("fashion_mnist", "test", FASHION_DIR, 0)
  src_acc, tgt_acc = shift_gap((grey[:1600], y[:1600]), (x[:1000], y[:1000]),
                               lambda x: pixels(x, 14), n_train=1000)
  assert src_acc > 0.7 and tgt_acc < src_acc - 0.2, (src_acc, tgt_acc)
  ds = data.get_dataset(ml_collections.ConfigDict(dict(
      name="fashion_mnist_m", data_dir=FASHION_DIR, split="test", image_size=0)))
  batch = ds.sample(8, seed=0)
  assert batch["x"].shape == (8, 28, 28, 3) and batch["x"].min() >= -1 and batch["x"].max() <= 1


def test_domain_adaptation_batches_are_seeded_resumable_and_keyed():
  ds = data.get_dataset(da_config())
  assert ds.spec.shape == (8, 8, 3) and ds.spec.num_classes == 10
  first = [next(ds.batches(16, seed=4, start=i)) for i in range(3)]
  stream = ds.batches(16, seed=4)
  for expected in first:
    got = next(stream)
    assert set(got) == {"x", "y", "d", "x_t", "y_t"}
    for key in got:
      np.testing.assert_array_equal(got[key], expected[key])
  assert first[0]["x"].min() >= -1 and first[0]["x"].max() <= 1
  other = next(ds.batches(16, seed=5))
  assert not np.array_equal(other["y"], first[0]["y"])


def test_source_validation_part_is_held_out_and_label_shift_applies():
  train = data.get_dataset(da_config())
  test = data.get_dataset(da_config(split="test"))
  assert train.num_source + test.num_source == 1437  # digits' train split, 80/20
  assert test.num_source == round(0.2 * 1437)
  shifted = data.get_dataset(da_config(label_shift="nw3"))
  assert shifted.spec.num_classes == 3
  src = np.bincount(shifted._ys)  # pylint: disable=protected-access
  tgt = np.bincount(shifted._yt)  # pylint: disable=protected-access
  assert src[0] > 5 * src[2] and tgt[2] > 5 * tgt[0]  # 1 : 0.1 against 0.1 : 1


def test_two_sources_get_domain_indices():
  ds = data.get_dataset(da_config(source="digits,digits"))
  batch = next(ds.batches(256, seed=0))
  assert set(np.unique(batch["d"])) == {0, 1}


def test_bad_domain_fields_are_one_line_config_errors():
  with pytest.raises(ConfigError, match="syn_digits"):
    data.get_dataset(da_config(source="nope"))
  with pytest.raises(ConfigError, match="label_shift"):
    data.get_dataset(da_config(label_shift="nw4"))
  with pytest.raises(ConfigError, match="one value per class"):
    data.get_dataset(da_config(label_shift="custom", classes="1,2", source_fractions="1"))
  with pytest.raises(ConfigError, match="different label sets"):
    data.get_dataset(da_config(source="fashion_mnist_colored10"))
