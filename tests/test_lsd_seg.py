"""The synthetic scenes, the mIoU metric and the LSD-seg trainer (issue 20)."""

import jax
import numpy as np
from PIL import Image
from skimage import draw

from jaxgen import config_base, data
from jaxgen.data import scenes
from jaxgen.metrics import segmentation as seg_metrics
from jaxgen.trainers import build_trainer
from jaxgen.trainers.lsd_seg import resize_labels


def skimage_label_map(layout, size=scenes.SIZE):
  """The layout painted with scikit-image's rasterisers (an independent implementation)."""
  labels = np.zeros((size, size), np.uint8)
  for kind, p in layout:
    if kind == 1:
      rr, cc = draw.disk((p[0], p[1]), p[2], shape=labels.shape)
    elif kind == 2:
      start = (np.ceil(p[0] - p[2]), np.ceil(p[1] - p[3]))
      end = (np.floor(p[0] + p[2]), np.floor(p[1] + p[3]))
      rr, cc = draw.rectangle(start, end, shape=labels.shape)
      rr, cc = rr.astype(int), cc.astype(int)
    else:
      angles = p[3] + 2 * np.pi * np.arange(3) / 3
      rr, cc = draw.polygon(p[0] + p[2] * np.sin(angles), p[1] + p[2] * np.cos(angles),
                            shape=labels.shape)
    labels[rr, cc] = kind
  return labels


def test_label_maps_match_scikit_image_rasterisation():
  """Each layout's label map equals the same shapes drawn by skimage.draw, in order."""
  rng = np.random.default_rng(0)
  mismatched, total = 0, 0
  for _ in range(200):
    layout = scenes.random_layout(rng)
    mismatched += int(np.sum(scenes.label_map(layout) != skimage_label_map(layout)))
    total += scenes.SIZE ** 2
  assert mismatched / total < 1e-3  # boundary pixels only (polygon edge conventions)


def test_source_pixels_are_their_label_colour():
  """Source: every pixel is its region's flat colour; each image's colours are distinct,
  so the label map is recovered from the image alone, pixel for pixel."""
  x, y, colours = scenes.load_scenes("source", "test", 0)
  assert x.shape == (800, 32, 32, 3) and y.shape == (800, 32, 32)
  assert set(np.unique(y)) == set(range(scenes.NUM_CLASSES))
  for i in range(100):
    for k in np.unique(y[i]):
      region = x[i][y[i] == k]
      assert (region == colours[i, k]).all()  # one flat colour per class region
    assert len({tuple(c) for c in colours[i]}) == scenes.NUM_CLASSES
    recovered = np.argmax((x[i][:, :, None, :] == colours[i][None, None]).all(-1), -1)
    np.testing.assert_array_equal(recovered, y[i])


def test_target_is_textured_and_scenes_are_deterministic():
  """The target's regions are not flat (photo textures, noise); same seed -> same scenes,
  another domain_seed -> other scenes."""
  xt, yt, _ = scenes.load_scenes("target", "test", 0)
  stds = [xt[i][yt[i] == 0].std(0).mean() for i in range(50)]
  assert np.median(stds) > 15  # flat regions would have std 0
  a = scenes.render("target", 20, np.random.default_rng([3, 1]))
  b = scenes.render("target", 20, np.random.default_rng([3, 1]))
  for u, v in zip(a, b):
    np.testing.assert_array_equal(u, v)
  scenes.load_scenes.cache_clear()
  np.testing.assert_array_equal(scenes.load_scenes("target", "test", 0)[0], xt)
  assert np.mean(scenes.load_scenes("target", "test", 1)[1] != yt) > 0.1


def test_scenes_dataset_batches():
  config = config_base.segmentation_config("lsd_seg").dataset
  ds = data.get_dataset(config)
  batch = next(ds.batches(4, seed=0))
  assert batch["x"].shape == (4, 32, 32, 3) and batch["y"].shape == (4, 32, 32)
  assert batch["x_t"].shape == (4, 32, 32, 3) and batch["x"].min() >= -1
  assert ds.spec.num_classes == 4 and ds.num_source == 3200


def test_mean_iou_equals_brute_force():
  """Confusion-matrix mIoU = the mean over present classes of |pred & true| / |pred | true|."""
  rng = np.random.default_rng(0)
  k = 5
  labels = rng.integers(0, k, (6, 20, 20))
  labels[labels == 3] = 255  # void pixels are ignored; class 3 never occurs in the labels
  preds = np.where(rng.random(labels.shape) < 0.6, labels, rng.integers(0, k, labels.shape))
  preds[preds == 255] = 0
  preds[preds == 4] = 2  # class 4: in the labels, never predicted (IoU 0)
  valid = labels != 255
  ious = []
  for c in range(k):
    union = np.sum(((labels == c) | (preds == c)) & valid)
    if union:
      ious.append(np.sum((labels == c) & (preds == c) & valid) / union)
  confusion = seg_metrics.confusion_matrix(labels, preds, k)
  assert int(confusion.sum()) == int(valid.sum())
  np.testing.assert_allclose(float(seg_metrics.mean_iou(confusion)), np.mean(ious), rtol=1e-6)
  np.testing.assert_allclose(float(seg_metrics.pixel_accuracy(confusion)),
                             np.mean(labels[valid] == preds[valid]), rtol=1e-6)


def test_label_resize_is_pil_nearest():
  labels = np.random.default_rng(0).integers(0, 4, (3, 32, 32)).astype(np.uint8)
  expected = np.stack([np.asarray(Image.fromarray(l).resize((8, 8), Image.NEAREST))
                       for l in labels])
  np.testing.assert_array_equal(np.asarray(resize_labels(labels, 8, 8)), expected)


def test_lsd_seg_lowers_its_losses():
  """40 steps on the scenes: the segmentation loss, D's and G's class losses and G's L1
  reconstruction fall (first 5 vs last 5 steps)."""
  config = config_base.segmentation_config("lsd_seg", num_steps=40)
  ds = data.get_dataset(config.dataset)
  trainer = build_trainer(config, ds.spec)
  state = trainer.init(jax.random.PRNGKey(0))
  stream = ds.batches(16, seed=0)
  batches = [next(stream) for _ in range(40)]
  stacked = {k: np.stack([b[k] for b in batches])[:, None] for k in batches[0]}
  state, metrics = jax.jit(lambda s, b: jax.lax.scan(trainer.train_step, s, b))(state, stacked)
  first = {k: float(np.mean(v[:5])) for k, v in metrics.items()}
  last = {k: float(np.mean(v[-5:])) for k, v in metrics.items()}
  assert int(state.step) == 40
  for name in ("seg_loss", "d_class", "g_class"):
    assert last[name] < 0.8 * first[name], (name, first[name], last[name])
  assert last["g_l1"] < first["g_l1"]
