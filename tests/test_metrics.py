"""Tests of jaxgen.metrics against independent brute-force or closed-form references."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import entropy

from jaxgen import metrics
from jaxgen.metrics import frechet


# ----------------------------------------------------------------------------
# Fréchet distance


def _reference_frechet(mu1, s1, mu2, s2):
  """|dmu|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2) via eigh."""
  w, u = np.linalg.eigh(s1)
  s1_half = (u * np.sqrt(np.clip(w, 0, None))) @ u.T
  m = s1_half @ s2 @ s1_half
  ev = np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)
  diff = mu1 - mu2
  return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev).sum()


def _random_stats(rng, n, d, shift=0.0, scale=1.0):
  x = rng.normal(size=(n, d)) * scale + shift
  return x.mean(0), np.cov(x, rowvar=False)


@pytest.mark.parametrize("n,d", [(300, 16), (10, 32), (20, 64), (5, 8)])
def test_frechet_matches_eigendecomposition_reference(n, d):
  rng = np.random.default_rng(n * 1000 + d)
  a = _random_stats(rng, n, d)
  b = _random_stats(rng, n + 3, d, shift=0.3, scale=1.5)
  got = metrics.frechet_distance(*a, *b)
  want = _reference_frechet(*a, *b)
  assert got == pytest.approx(want, rel=1e-6)


def test_frechet_closed_form_for_diagonal_covariances():
  rng = np.random.default_rng(1)
  v1, v2 = rng.uniform(0.1, 3, size=7), rng.uniform(0.1, 3, size=7)
  mu1, mu2 = rng.normal(size=7), rng.normal(size=7)
  want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
  got = metrics.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
  assert got == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("n,d", [(300, 16), (10, 32)])
def test_frechet_identical_is_zero_and_symmetric(n, d):
  rng = np.random.default_rng(2)
  a = _random_stats(rng, n, d)
  b = _random_stats(rng, n, d, shift=1.0)
  assert abs(metrics.frechet_distance(*a, *a)) < 1e-6 * np.trace(a[1])
  assert metrics.frechet_distance(*a, *b) == pytest.approx(
      metrics.frechet_distance(*b, *a), rel=1e-8)


def test_frechet_retries_with_eps_when_sqrtm_not_finite(monkeypatch):
  rng = np.random.default_rng(3)
  a, b = _random_stats(rng, 50, 6), _random_stats(rng, 50, 6, shift=0.5)
  real_sqrtm = frechet.linalg.sqrtm
  calls = []

  def flaky_sqrtm(m):
    calls.append(m)
    return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

  monkeypatch.setattr(frechet.linalg, "sqrtm", flaky_sqrtm)
  eps = 1e-2
  with pytest.warns(RuntimeWarning, match="singular"):
    got = metrics.frechet_distance(*a, *b, eps=eps)
  assert len(calls) == 2
  offset = eps * np.eye(6)
  np.testing.assert_allclose(calls[1], (a[1] + offset) @ (b[1] + offset))
  # The offset only enters the sqrtm term, exactly as in pytorch-fid.
  covmean = real_sqrtm(calls[1]).real
  want = (np.sum((a[0] - b[0]) ** 2) + np.trace(a[1]) + np.trace(b[1])
          - 2 * np.trace(covmean))
  assert got == pytest.approx(want, rel=1e-12)


def test_frechet_raises_on_large_imaginary_component(monkeypatch):
  monkeypatch.setattr(frechet.linalg, "sqrtm", lambda m: np.eye(len(m)) * (1 + 1j))
  with pytest.raises(ValueError, match="imaginary"):
    metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(3))


def test_streaming_stats_match_full_array():
  rng = np.random.default_rng(4)
  # A large common offset would break a naive sum / sum-of-squares accumulator.
  x = rng.normal(size=(500, 12)) * rng.uniform(0.1, 2, size=12) + 50.0
  stats = metrics.GaussianStats()
  start = 0
  for size in [1, 7, 0, 100, 3, 250, 139]:
    stats = stats.update(x[start:start + size])
    start += size
  assert start == len(x) and stats.count == len(x)
  mu, sigma = metrics.statistics(x)
  np.testing.assert_allclose(stats.mean(), x.mean(0), rtol=0, atol=1e-10)
  np.testing.assert_allclose(stats.covariance(), np.cov(x, rowvar=False),
                             rtol=0, atol=1e-10)
  np.testing.assert_allclose(mu, x.mean(0), rtol=0, atol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=0, atol=1e-12)


def test_streaming_stats_are_immutable_and_accept_jax_arrays():
  x = jax.random.normal(jax.random.PRNGKey(0), (64, 5))
  empty = metrics.GaussianStats()
  stats = empty.update(x[:30]).update(x[30:])
  assert empty.count == 0
  want = np.cov(np.asarray(x, np.float64), rowvar=False)
  np.testing.assert_allclose(stats.covariance(), want, atol=1e-10)
  assert stats.covariance().dtype == np.float64


def test_fid_from_features():
  rng = np.random.default_rng(5)
  f1 = rng.normal(size=(200, 8))
  f2 = rng.normal(size=(150, 8)) + 0.5
  want = _reference_frechet(f1.mean(0), np.cov(f1, rowvar=False),
                            f2.mean(0), np.cov(f2, rowvar=False))
  assert metrics.fid_from_features(f1, f2) == pytest.approx(want, rel=1e-8)


# ----------------------------------------------------------------------------
# KID


def _reference_unbiased_mmd2(x, y):
  d = x.shape[1]
  k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3
  n = len(x)
  xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
  yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
  xy = sum(k(x[i], y[j]) for i in range(n) for j in range(n))
  return xx / (n * (n - 1)) + yy / (n * (n - 1)) - 2 * xy / (n * n)


def test_kid_single_full_subset_matches_direct_mmd():
  rng = np.random.default_rng(6)
  x = rng.normal(size=(40, 6))
  y = rng.normal(size=(40, 6)) * 1.3 + 0.4
  want = _reference_unbiased_mmd2(x, y)
  mean, std = metrics.kernel_inception_distance(x, y, num_subsets=1, subset_size=40)
  assert abs(mean - want) < 1e-10 * max(1.0, abs(want))
  assert std == 0.0
  assert metrics.polynomial_mmd2(x, y) == pytest.approx(want, rel=1e-12)


def test_kid_same_distribution_near_zero_shifted_positive():
  rng = np.random.default_rng(7)
  a = rng.normal(size=(600, 16))
  b = rng.normal(size=(500, 16))
  shifted = rng.normal(size=(500, 16)) + 0.5
  kid = lambda x, y: metrics.kernel_inception_distance(x, y, num_subsets=20,
                                                       subset_size=200)
  same_mean, same_std = kid(a, b)
  diff_mean, diff_std = kid(a, shifted)
  assert abs(same_mean) < 3 * same_std + 1e-3
  assert diff_mean > 0.5 and diff_mean > 10 * diff_std
  assert diff_mean > 50 * abs(same_mean)


def test_kid_caps_subset_size_and_is_deterministic():
  rng = np.random.default_rng(8)
  a, b = rng.normal(size=(30, 4)), rng.normal(size=(50, 4))
  r1 = metrics.kernel_inception_distance(a, b, num_subsets=5, subset_size=1000, seed=3)
  r2 = metrics.kernel_inception_distance(a, b, num_subsets=5, subset_size=1000, seed=3)
  r3 = metrics.kernel_inception_distance(a, b, num_subsets=5, subset_size=1000, seed=4)
  assert r1 == r2 and r1 != r3


# ----------------------------------------------------------------------------
# Inception score


def test_inception_score_confident_uniform_gives_num_classes():
  k = 10
  probs = np.eye(k)[np.arange(1000) % k]
  mean, std = metrics.inception_score(probs, splits=10)
  assert mean == pytest.approx(k, rel=1e-12)
  assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_identical_predictions_give_one():
  p = np.random.default_rng(9).dirichlet(np.ones(7))
  mean, std = metrics.inception_score(np.tile(p, (100, 1)), splits=5)
  assert mean == pytest.approx(1.0, abs=1e-12)
  assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_matches_per_example_kl_reference():
  probs = np.random.default_rng(10).dirichlet(np.full(5, 0.3), size=103)
  splits = 4
  scores = []
  for i in range(splits):
    part = probs[i * 103 // splits:(i + 1) * 103 // splits]
    py = part.mean(0)
    scores.append(np.exp(np.mean([entropy(row, py) for row in part])))
  mean, std = metrics.inception_score(probs, splits=splits)
  assert mean == pytest.approx(np.mean(scores), rel=1e-10)
  assert std == pytest.approx(np.std(scores), rel=1e-8)


# ----------------------------------------------------------------------------
# Precision / recall and density / coverage


def _reference_radii(x, k):
  d = cdist(x, x)
  return np.array([np.sort(np.delete(d[i], i))[k - 1] for i in range(len(x))])


def _reference_prdc(real, fake, k_pr, k_dc):
  d = cdist(real, fake)                       # [num_real, num_fake]
  r_real, r_fake = _reference_radii(real, k_pr), _reference_radii(fake, k_pr)
  precision = np.mean([any(d[i, j] <= r_real[i] for i in range(len(real)))
                       for j in range(len(fake))])
  recall = np.mean([any(d[i, j] <= r_fake[j] for j in range(len(fake)))
                    for i in range(len(real))])
  r5 = _reference_radii(real, k_dc)
  density = np.mean([sum(d[i, j] < r5[i] for i in range(len(real)))
                     for j in range(len(fake))]) / k_dc
  coverage = np.mean([d[i].min() < r5[i] for i in range(len(real))])
  return precision, recall, density, coverage


@pytest.mark.parametrize("block_size", [1024, 7])
def test_prdc_match_brute_force(block_size):
  rng = np.random.default_rng(11)
  real = rng.normal(size=(50, 5))
  fake = rng.normal(size=(60, 5)) + 0.7
  precision, recall, density, coverage = _reference_prdc(real, fake, 3, 5)
  pr = metrics.precision_recall(real, fake, k=3, block_size=block_size)
  dc = metrics.density_coverage(real, fake, k=5, block_size=block_size)
  assert 0 < precision < 1 and 0 < recall < 1 and 0 < coverage < 1
  assert pr["precision"] == pytest.approx(precision, abs=1e-12)
  assert pr["recall"] == pytest.approx(recall, abs=1e-12)
  assert dc["density"] == pytest.approx(density, abs=1e-12)
  assert dc["coverage"] == pytest.approx(coverage, abs=1e-12)


def test_knn_radii_exclude_self():
  x = np.array([[0.0], [1.0], [3.0], [7.0]])
  np.testing.assert_allclose(metrics.knn_radii(x, 1), [1, 1, 2, 4], atol=1e-12)
  np.testing.assert_allclose(metrics.knn_radii(x, 2, block_size=3), [3, 2, 3, 6],
                             atol=1e-12)


def test_prdc_identical_and_disjoint_sets():
  x = np.random.default_rng(12).normal(size=(50, 4))
  assert metrics.precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
  assert metrics.density_coverage(x, x)["coverage"] == 1.0
  far = x + 1000.0
  assert metrics.precision_recall(x, far) == {"precision": 0.0, "recall": 0.0}
  assert metrics.density_coverage(x, far) == {"density": 0.0, "coverage": 0.0}


# ----------------------------------------------------------------------------
# Mode coverage


def _ring_means(num_modes=8, radius=2.0):
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _sample_modes(rng, means, modes, n, std):
  idx = rng.choice(modes, size=n)
  return means[idx] + std * rng.normal(size=(n, 2))


def test_mode_coverage_full_ring():
  rng = np.random.default_rng(13)
  means, std = _ring_means(), 0.02
  samples = _sample_modes(rng, means, np.arange(8), 2500, std)
  out = metrics.mode_coverage(samples, means, std)
  assert out["modes_covered"] == 8
  assert out["high_quality_fraction"] > 0.95    # P(chi_2 < 3) = 1 - e^{-4.5} = 0.989
  assert out["counts"].sum() == round(out["high_quality_fraction"] * 2500)
  assert out["reverse_kl"] < 0.01


def test_mode_coverage_three_modes():
  rng = np.random.default_rng(14)
  means, std = _ring_means(), 0.02
  samples = _sample_modes(rng, means, [0, 3, 5], 2500, std)
  out = metrics.mode_coverage(samples, means, std)
  assert out["modes_covered"] == 3
  np.testing.assert_array_equal(np.flatnonzero(out["covered"]), [0, 3, 5])
  assert out["reverse_kl"] == pytest.approx(math.log(8 / 3), abs=0.01)


def test_mode_coverage_uniform_noise_is_low_quality():
  rng = np.random.default_rng(15)
  noise = rng.uniform(-6, 6, size=(2500, 2))
  out = metrics.mode_coverage(noise, _ring_means(), 0.02)
  assert out["high_quality_fraction"] < 0.01


def test_mode_coverage_thresholds_and_per_mode_std():
  means = np.array([[0.0, 0.0], [1.0, 0.0]])
  # (0.4, 0) is 0.4 from mode 0 (4 of its stds) but 0.6 from mode 1 (1.2 of its
  # stds): the std-normalised nearest mode is mode 1, as in PacGAN's MetricLogger.
  # (0, -0.2) is 2.0 stds from mode 0 and 2.04 from mode 1; (-1, 0) is 4 stds
  # from its nearest mode (1), so not high quality.
  samples = np.array([[0.4, 0.0], [0.0, 0.05], [0.0, -0.2], [-1.0, 0.0]])
  out = metrics.mode_coverage(samples, means, std=[0.1, 0.5])
  np.testing.assert_array_equal(out["assignments"], [1, 0, 0, -1])
  np.testing.assert_array_equal(out["counts"], [2, 1])
  assert out["high_quality_fraction"] == 0.75
  strict = metrics.mode_coverage(samples, means, std=[0.1, 0.5], min_count=2)
  assert strict["modes_covered"] == 1
  diag = metrics.mode_coverage(samples, means, std=[[0.1, 0.1], [0.5, 0.5]])
  np.testing.assert_array_equal(diag["assignments"], out["assignments"])


def test_reverse_kl_modes_hand_computed():
  assert metrics.reverse_kl_modes([2, 2, 0, 0]) == pytest.approx(math.log(2))
  exact = metrics.reverse_kl_modes([1, 3], weights=[0.25, 0.75])
  assert exact == pytest.approx(0.0, abs=1e-15)
  want = 0.5 * math.log(0.5 / 0.2) + 0.5 * math.log(0.5 / 0.8)
  assert metrics.reverse_kl_modes([5, 5], weights=[0.2, 0.8]) == pytest.approx(want)


# ----------------------------------------------------------------------------
# Bits per dimension


def test_bits_per_dim_uniform_8bit_model_is_8_bits():
  # A uniform density on the dequantised data range assigns 2^-8 to each value.
  d = 3 * 32 * 32
  bpd = metrics.bits_per_dim
  assert bpd(d * math.log(2.0), d, data_scale=2.0) == pytest.approx(8.0)
  assert bpd(0.0, d, data_scale=1.0) == pytest.approx(8.0)
  assert bpd(d * math.log(256.0), d, data_scale=256.0) == pytest.approx(8.0)


def test_bits_per_dim_hand_computed_and_jittable():
  d = 784
  nll = 1000.0   # nats per example, for data in [-1, 1]
  want = (1000.0 + 784 * math.log(128.0)) / (784 * math.log(2.0))
  assert metrics.bits_per_dim(nll, d, data_scale=2.0) == pytest.approx(want, rel=1e-12)
  assert metrics.bits_per_dim(nll, d, data_scale=None) == pytest.approx(
      1000.0 / (784 * math.log(2.0)), rel=1e-12)
  jitted = jax.jit(lambda x: metrics.bits_per_dim(x, d, data_scale=2.0))
  np.testing.assert_allclose(jitted(jnp.array([nll, 2 * nll])),
                             [want, want + 1000.0 / (784 * math.log(2.0))], rtol=1e-6)
