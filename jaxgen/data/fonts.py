"""SynDigits offline: digits 0-9 rendered with the fonts installed on the machine.

Like SynDigits (Ganin & Lempitsky 2015) it varies font, size, rotation, position and the
foreground/background colours; the fonts are matplotlib's bundled TrueType files plus any
Debian font package under /usr/share/fonts.
"""

from __future__ import annotations

import functools
import glob
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# matplotlib fonts whose digits are ordinary glyphs (cmmi/cmsy/cmex/STIXSiz* are symbols).
_MATPLOTLIB_FONTS = ("DejaVu*.ttf", "STIXGeneral*.ttf", "cmr10.ttf", "cmss10.ttf",
                     "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf")
_SYSTEM_FONT_DIR = "/usr/share/fonts"
_RENDER_SIZE = 64  # glyphs are drawn at 64 px and downsampled (antialiasing)


def _glyphs_distinct(path: str) -> bool:
  """Whether the font draws ten non-empty, pairwise different digits."""
  try:
    font = ImageFont.truetype(path, 40)
  except OSError:
    return False
  bitmaps = []
  for digit in "0123456789":
    canvas = Image.new("L", (64, 64))
    ImageDraw.Draw(canvas).text((32, 32), digit, fill=255, font=font, anchor="mm")
    bitmap = np.asarray(canvas) > 127
    if bitmap.sum() < 20:
      return False
    bitmaps.append(bitmap)
  return len({b.tobytes() for b in bitmaps}) == 10


@functools.lru_cache(maxsize=None)
def font_paths() -> tuple[str, ...]:
  """Sorted paths of the usable fonts (matplotlib's, then /usr/share/fonts)."""
  import matplotlib  # pylint: disable=g-import-not-at-top

  ttf_dir = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
  paths = [p for pattern in _MATPLOTLIB_FONTS for p in glob.glob(os.path.join(ttf_dir, pattern))]
  paths += glob.glob(os.path.join(_SYSTEM_FONT_DIR, "**", "*.ttf"), recursive=True)
  # A font file shipped twice (matplotlib's DejaVu and Debian's) counts once.
  by_name = {}
  for path in sorted(paths):
    by_name.setdefault(os.path.basename(path), path)
  return tuple(p for _, p in sorted(by_name.items()) if _glyphs_distinct(p))


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
  """Foreground and background RGB colours whose grey levels differ by >= 80 of 255."""
  while True:
    fg, bg = rng.integers(0, 256, size=(2, 3))
    if abs(fg.mean() - bg.mean()) >= 80:
      return fg, bg


def render_digit(digit: int, font_path: str, rng: np.random.Generator,
                 image_size: int) -> np.ndarray:
  """One digit as uint8 RGB [image_size, image_size, 3] with random style."""
  size = _RENDER_SIZE
  font = ImageFont.truetype(font_path, int(rng.uniform(0.55, 0.95) * size))
  mask = Image.new("L", (size, size))
  centre = size / 2 + rng.uniform(-0.1, 0.1, size=2) * size
  ImageDraw.Draw(mask).text(tuple(centre), str(digit), fill=255, font=font, anchor="mm")
  mask = mask.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
  mask = mask.resize((image_size, image_size), Image.BILINEAR)
  alpha = np.asarray(mask, np.float32)[..., None] / 255.0
  fg, bg = _colours(rng)
  image = alpha * fg + (1 - alpha) * bg
  image += rng.normal(0, rng.uniform(0, 12), size=image.shape)  # sensor noise
  return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def syn_digits(num_examples: int, seed: int, image_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 RGB images [N, S, S, 3], int32 labels [N]): balanced labels, one rng per example.

  Deterministic given (num_examples, seed, image_size) and the installed fonts.
  """
  fonts = font_paths()
  if not fonts:
    raise FileNotFoundError("no usable TrueType font found in matplotlib or /usr/share/fonts")
  labels = (np.arange(num_examples) % 10).astype(np.int32)
  images = np.empty((num_examples, image_size, image_size, 3), np.uint8)
  for i in range(num_examples):
    rng = np.random.default_rng([seed, i])
    images[i] = render_digit(int(labels[i]), fonts[rng.integers(len(fonts))], rng, image_size)
  order = np.random.default_rng([seed, num_examples]).permutation(num_examples)
  images, labels = images[order], labels[order]
  images.flags.writeable = False
  labels.flags.writeable = False
  return images, labels
