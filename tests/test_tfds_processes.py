"""Per-process TFDS streams: each process decodes only its rows, in the one-process order."""

import itertools

import ml_collections
import numpy as np
import pytest

from jaxgen.data import get_dataset

tf = pytest.importorskip("tensorflow")
tfds = pytest.importorskip("tensorflow_datasets")

BATCH, PROCESSES, NUM_BATCHES = 8, 2, 10  # 10 batches of 8 cover 4 epochs of 20


@pytest.fixture(name="decodes")
def fixture_decodes(monkeypatch):
  """Counts images decoded (tfds Image.decode_example calls inside tf.data)."""
  calls = []
  original = tfds.features.Image.decode_example

  def counting(self, example, *args, **kwargs):
    image = original(self, example, *args, **kwargs)
    tick = tf.numpy_function(lambda: calls.append(1) or np.int32(0), [], tf.int32)
    with tf.control_dependencies([tick]):
      return tf.identity(image)

  monkeypatch.setattr(tfds.features.Image, "decode_example", counting)
  with tfds.testing.mock_data(num_examples=20):
    yield calls


def _stream(start=0, **processes):
  ds = get_dataset(ml_collections.ConfigDict(dict(name="tfds:cifar10", in_memory=False)))
  return list(itertools.islice(
      ds.process_batches(BATCH, seed=3, start=start, **processes), NUM_BATCHES))


@pytest.mark.parametrize("start", [0, 3])
def test_process_slices_concatenate_to_the_one_process_stream(decodes, start):
  """Batch for batch, process 0's rows then process 1's equal the global batch (from
  step 0 and resumed at step 3, mid-epoch), and each process decoded only its rows."""
  counts = [len(decodes)]
  whole = _stream(start)
  counts.append(len(decodes))
  parts = []
  for index in range(PROCESSES):
    parts.append(_stream(start, process_index=index, process_count=PROCESSES))
    counts.append(len(decodes))
  for i, batch in enumerate(whole):
    assert batch["x"].shape == (BATCH, 32, 32, 3)
    for key in ("x", "y"):
      np.testing.assert_array_equal(
          np.concatenate([part[i][key] for part in parts]), batch[key])
  assert len({b["x"].tobytes() for b in whole}) == NUM_BATCHES  # not one batch repeated
  one_process, *per_process = np.diff(counts)
  rows = NUM_BATCHES * BATCH // PROCESSES
  print(f"images decoded: one process {one_process}, per process {per_process}")
  # tf.data reads a little ahead (prefetch); decoding every row would be >= 2 * rows.
  assert one_process >= 2 * rows
  assert all(rows <= n < 1.5 * rows for n in per_process), per_process
