"""The Flax FID Inception equals pytorch-fid's network, checked against a PyTorch copy.

The official weights cannot be downloaded here, so a PyTorch FID Inception with random
weights and BN statistics goes through the real path: state dict -> `.pth` ->
`convert_inception` -> `.npz` -> `load_inception_params` -> Flax, compared with PyTorch.
"""

import jax
import numpy as np
import pytest

from jaxgen.metrics import convert_inception
from jaxgen.metrics import inception

torch = pytest.importorskip("torch")
F = torch.nn.functional

from tests import torch_fid_inception  # noqa: E402  (needs torch)

pytestmark = pytest.mark.xdist_group("inception")

# torchvision Inception3(num_classes=1008, aux_logits=False): conv weights, BN
# weight/bias and the 2048x1008 fc; BN running stats are buffers, not parameters.
NUM_PARAMS = 23_850_960
RTOL = 1e-4


def rel_err(actual, expected) -> float:
  return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """(torch model, its state dict as numpy, Flax variables converted from its .pth)."""
  model = torch_fid_inception.random_fid_inception(seed=0)
  tmp = tmp_path_factory.mktemp("inception")
  pth, npz = str(tmp / "pt_inception.pth"), str(tmp / "inception_fid.npz")
  torch.save(model.state_dict(), pth)
  convert_inception.main(["--input", pth, "--output", npz])
  state_dict = {k: v.numpy() for k, v in model.state_dict().items()}
  return model, state_dict, inception.load_inception_params(npz)


def torch_outputs(model, images: np.ndarray, resize_input: bool = True):
  """pytorch-fid's input convention: NCHW in [0, 1]."""
  x = torch.from_numpy((images + 1) / 2).permute(0, 3, 1, 2)
  with torch.no_grad():
    pool3, logits = model(x, resize_input=resize_input)
  pool3, logits = pool3.numpy(), logits.numpy()
  return {"pool3": pool3, "logits": logits,
          "logits_unbiased": logits - model.fc.bias.detach().numpy()}


def test_parameter_count(reference):
  model, _, variables = reference
  torch_count = sum(p.numel() for p in model.parameters())
  flax_count = sum(int(np.prod(shape)) for k, shape in inception.variable_shapes().items()
                   if k.startswith("params/"))
  loaded = sum(x.size for x in jax.tree.leaves(variables["params"]))
  assert torch_count == flax_count == loaded == NUM_PARAMS


def test_every_layer_shape_matches_the_state_dict(reference):
  _, state_dict, _ = reference
  shapes = inception.variable_shapes()
  seen = set()
  for key, value in state_dict.items():
    module, _, leaf = key.rpartition(".")
    path = module.replace(".", "/")
    if leaf == "num_batches_tracked":
      continue
    if leaf == "weight" and value.ndim == 4:  # OIHW -> HWIO
      flax_key, shape = f"params/{path}/kernel", value.shape[2:] + value.shape[1::-1]
    elif key == "fc.weight":
      flax_key, shape = "params/fc/kernel", value.shape[::-1]
    elif leaf.startswith("running_"):
      flax_key, shape = f"batch_stats/{path}/{leaf[len('running_'):]}", value.shape
    else:
      flax_key = f"params/{path}/{'scale' if leaf == 'weight' and path != 'fc' else leaf}"
      shape = value.shape
    assert shapes.get(flax_key) == shape, key
    seen.add(flax_key)
  assert seen == set(shapes)
  assert len(state_dict) == 566 and len(shapes) == 472  # 94 BatchNorms, 94 convs, 1 fc.


def test_converter_values(reference):
  _, state_dict, variables = reference
  params, stats = variables["params"], variables["batch_stats"]
  conv = state_dict["Mixed_6b.branch7x7_2.conv.weight"]
  np.testing.assert_array_equal(params["Mixed_6b"]["branch7x7_2"]["conv"]["kernel"],
                                conv.transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(params["fc"]["kernel"], state_dict["fc.weight"].T)
  np.testing.assert_array_equal(params["Mixed_7c"]["branch_pool"]["bn"]["scale"],
                                state_dict["Mixed_7c.branch_pool.bn.weight"])
  np.testing.assert_array_equal(stats["Conv2d_1a_3x3"]["bn"]["var"],
                                state_dict["Conv2d_1a_3x3.bn.running_var"])


def test_converter_is_strict(reference):
  _, state_dict, _ = reference
  with pytest.raises(ValueError, match="unexpected entry"):
    convert_inception.convert_state_dict({**state_dict, "AuxLogits.fc.weight": np.zeros((2, 2))})
  missing = dict(state_dict)
  del missing["Mixed_5b.branch_pool.bn.running_mean"]
  with pytest.raises(ValueError, match="missing"):
    convert_inception.convert_state_dict(missing)
  with pytest.raises(ValueError, match="wrong shape"):
    convert_inception.convert_state_dict({**state_dict, "fc.bias": np.zeros(1000)})


def test_load_rejects_incomplete_npz(tmp_path):
  path = str(tmp_path / "bad.npz")
  np.savez(path, **{"params/fc/bias": np.zeros(1008, np.float32)})
  with pytest.raises(ValueError, match="missing"):
    inception.load_inception_params(path)


@pytest.mark.parametrize("shape", [(32, 32), (64, 48), (299, 299), (300, 300), (512, 512),
                                   (17, 400)])
def test_resize_matches_torch_bilinear(shape):
  x = np.random.default_rng(1).uniform(-1, 1, (2, *shape, 3)).astype(np.float32)
  expected = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(299, 299),
                           mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
  np.testing.assert_allclose(np.asarray(inception.resize_bilinear(x)), expected, atol=2e-6)


@pytest.mark.parametrize("size", [32, 299])
def test_outputs_match_pytorch(reference, size):
  model, _, variables = reference
  # 3 images with batch_size 2: also streams two batches, the last one padded.
  images = np.random.default_rng(size).uniform(-1, 1, (3, size, size, 3)).astype(np.float32)
  ours = inception.inception_outputs(variables, images, batch_size=2,
                                     outputs=inception.OUTPUT_KEYS)
  theirs = torch_outputs(model, images)
  for key in inception.OUTPUT_KEYS:
    assert ours[key].shape == theirs[key].shape
    err = rel_err(ours[key], theirs[key])
    print(f"{size}x{size} {key}: max relative error {err:.2e}")
    assert err < RTOL, key


def test_unresized_input_matches_pytorch(reference):
  model, _, variables = reference
  images = np.random.default_rng(2).uniform(-1, 1, (2, 96, 80, 3)).astype(np.float32)
  ours = inception.inception_features(variables, images, batch_size=2, resize_input=False)
  theirs = torch_outputs(model, images, resize_input=False)["pool3"]
  assert rel_err(ours, theirs) < RTOL


def test_inception_features_checks_inputs(reference):
  _, _, variables = reference
  with pytest.raises(ValueError, match=r"\[-1, 1\]"):
    inception.inception_features(variables, np.full((1, 32, 32, 3), 255.0, np.float32))
  with pytest.raises(ValueError, match="must be \\[N, H, W, 3\\]"):
    inception.inception_features(variables, np.zeros((1, 3, 32, 32), np.float32))
  empty = inception.inception_features(variables, np.zeros((0, 32, 32, 3), np.float32))
  assert empty.shape == (0, inception.FEATURE_DIM)


def test_xla_and_matmul_lowerings_agree_with_pytorch(reference):
  """Both conv lowerings (XLA's conv; CPU patches + matmuls, with the sibling 1x1 convs as
  one matmul and the branch pool after it) and `auto`'s mix of them give pytorch-fid's
  features."""
  model, _, variables = reference
  images = np.random.default_rng(3).uniform(-1, 1, (2, 299, 299, 3)).astype(np.float32)
  theirs = torch_outputs(model, images, resize_input=False)["pool3"]
  for impl in ("xla", "matmul", "auto"):
    net = inception.FIDInceptionV3(conv_impl=impl)
    ours = net.apply(variables, images, resize_input=False)["pool3"]
    assert rel_err(np.asarray(ours), theirs) < RTOL, impl
