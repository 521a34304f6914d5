"""pytorch-fid's FID Inception-v3 written directly in PyTorch, for tests and benchmarks only.

Layers are torchvision's `Inception3` (torchvision/models/inception.py) with
num_classes=1008, aux_logits=False and the FID blocks that `fid_inception_v3()` swaps in
(mseitzer/pytorch-fid src/pytorch_fid/inception.py), so the state-dict keys equal those
of `pt_inception-2015-12-05-6726825d.pth`. torchvision itself is not used: its PyPI
wheel does not import beside the local torch build.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicConv2d(nn.Module):

  def __init__(self, in_channels: int, out_channels: int, **kwargs):
    super().__init__()
    self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
    self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

  def forward(self, x):
    return F.relu(self.bn(self.conv(x)), inplace=True)


def _fid_avg_pool(x):
  return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):

  def __init__(self, in_channels: int, pool_features: int):
    super().__init__()
    self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
    self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
    self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
    self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
    self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
    self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

  def forward(self, x):
    branch1x1 = self.branch1x1(x)
    branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
    branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    branch_pool = self.branch_pool(_fid_avg_pool(x))
    return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):

  def __init__(self, in_channels: int):
    super().__init__()
    self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
    self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
    self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

  def forward(self, x):
    branch3x3 = self.branch3x3(x)
    branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
    return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class FIDInceptionC(nn.Module):

  def __init__(self, in_channels: int, channels_7x7: int):
    super().__init__()
    c7 = channels_7x7
    self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
    self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
    self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
    self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
    self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
    self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
    self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
    self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
    self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
    self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

  def forward(self, x):
    branch1x1 = self.branch1x1(x)
    branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
    dbl = self.branch7x7dbl_1(x)
    dbl = self.branch7x7dbl_2(dbl)
    dbl = self.branch7x7dbl_3(dbl)
    dbl = self.branch7x7dbl_4(dbl)
    dbl = self.branch7x7dbl_5(dbl)
    branch_pool = self.branch_pool(_fid_avg_pool(x))
    return torch.cat([branch1x1, branch7x7, dbl, branch_pool], 1)


class InceptionD(nn.Module):

  def __init__(self, in_channels: int):
    super().__init__()
    self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
    self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
    self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
    self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
    self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
    self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

  def forward(self, x):
    branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
    b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
    branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
    return torch.cat([branch3x3, b7, branch_pool], 1)


class FIDInceptionE(nn.Module):
  """FIDInceptionE_1 (max_pool=False) and FIDInceptionE_2 (max_pool=True)."""

  def __init__(self, in_channels: int, max_pool: bool):
    super().__init__()
    self.max_pool = max_pool
    self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
    self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
    self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
    self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
    self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
    self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
    self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
    self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

  def forward(self, x):
    branch1x1 = self.branch1x1(x)
    b3 = self.branch3x3_1(x)
    b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
    dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
    dbl = torch.cat([self.branch3x3dbl_3a(dbl), self.branch3x3dbl_3b(dbl)], 1)
    if self.max_pool:
      pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    else:
      pooled = _fid_avg_pool(x)
    return torch.cat([branch1x1, b3, dbl, self.branch_pool(pooled)], 1)


class FIDInception3(nn.Module):
  """`fid_inception_v3()`; forward takes [N, 3, H, W] in [0, 1] like pytorch-fid's InceptionV3.

  Returns (pool3 [N, 2048], fc logits [N, 1008]).
  """

  def __init__(self, num_classes: int = 1008):
    super().__init__()
    self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
    self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
    self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
    self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
    self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
    self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
    self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
    self.Mixed_5b = FIDInceptionA(192, pool_features=32)
    self.Mixed_5c = FIDInceptionA(256, pool_features=64)
    self.Mixed_5d = FIDInceptionA(288, pool_features=64)
    self.Mixed_6a = InceptionB(288)
    self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    self.Mixed_7a = InceptionD(768)
    self.Mixed_7b = FIDInceptionE(1280, max_pool=False)
    self.Mixed_7c = FIDInceptionE(2048, max_pool=True)
    self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    self.dropout = nn.Dropout(p=0.5)
    self.fc = nn.Linear(2048, num_classes)

  def forward(self, x, resize_input: bool = True):
    # pytorch-fid InceptionV3.forward: resize, then scale (0, 1) -> (-1, 1).
    if resize_input:
      x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
                 "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c",
                 "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                 "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
      x = getattr(self, name)(x)
    pool3 = torch.flatten(x, 1)
    return pool3, self.fc(self.dropout(pool3))


def random_fid_inception(seed: int = 0, calibration_size: int = 299) -> FIDInception3:
  """An eval-mode FIDInception3 with random weights and perturbed, data-calibrated BN stats.

  Conv weights are He-normal and BN's affine parameters random; each BN's running stats
  come from one train-mode pass on random images and are then perturbed (mean shift,
  variance scale), so activations stay O(1) through the network yet differ per channel.
  """
  gen = torch.Generator().manual_seed(seed)
  model = FIDInception3()
  with torch.no_grad():
    for m in model.modules():
      if isinstance(m, nn.Conv2d):
        fan_in = m.weight[0].numel()
        m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
      elif isinstance(m, nn.BatchNorm2d):
        m.momentum = None  # Cumulative average: after one pass, running stats = batch stats.
        m.reset_running_stats()
        m.weight.copy_(torch.empty(m.num_features).uniform_(0.6, 1.5, generator=gen))
        m.bias.copy_(0.2 * torch.randn(m.num_features, generator=gen))
      elif isinstance(m, nn.Linear):
        m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / m.in_features ** 0.5)
        m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.5)
    model.train()
    model(torch.rand(2, 3, calibration_size, calibration_size, generator=gen))
    model.eval()
    for m in model.modules():
      if isinstance(m, nn.BatchNorm2d):
        c = m.num_features
        m.running_mean.add_(0.1 * m.running_var.sqrt() * torch.randn(c, generator=gen))
        m.running_var.mul_(torch.empty(c).uniform_(0.8, 1.25, generator=gen))
        m.momentum = 0.1
  return model
