"""Data parallelism: the run sharded over 8 fake CPU devices equals the 1-device run."""

import textwrap

from tests.conftest import run_on_eight_devices

_SCRIPT = textwrap.dedent("""
    import sys, tempfile
    import jax, numpy as np
    from jaxgen import train
    from tests.conftest import tiny_dcgan, tiny_ring8
    assert jax.device_count() == 8, jax.devices()
    for make in (tiny_dcgan, tiny_ring8):
      states = []
      for devices in (1, 8):
        config = make(num_devices=devices)
        state = train.train_and_evaluate(config, tempfile.mkdtemp())
        states.append(state)
      leaves = [jax.tree.leaves(jax.device_get(s)) for s in states]
      assert len(leaves[0]) == len(leaves[1])
      worst = 0.0
      for a, b in zip(*leaves):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
        if a.dtype.kind == "f":
          worst = max(worst, float(np.max(np.abs(a - b))))
      # The 8-device state really is spread over 8 devices.
      g_kernel = jax.tree.leaves(states[1].g.params)[0]
      assert len(g_kernel.sharding.device_set) == 8
      print(make.__name__, "max abs diff", worst)
    print("OK")
""")


def test_sharded_run_matches_single_device_run():
  result = run_on_eight_devices(_SCRIPT)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "OK" in result.stdout
