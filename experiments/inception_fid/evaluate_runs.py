"""Inception FID/KID/precision/recall of trained runs next to their FID-<dataset>.

    python experiments/inception_fid/evaluate_runs.py --num_samples 1000 runs/default ...

For each run directory: `jaxgen.evaluate.evaluate_run` twice on its latest checkpoint,
with eval.feature_net=classifier (jaxgen's dataset classifier) and =inception (the TF
FID Inception, `make inception`), N generated and N real examples each; prints one
markdown row per run and writes <run>/eval_inception.json; the run's own eval.json (which
evaluate_run rewrites) is put back as it was. Runs of one dataset, seed and
eval config (e.g. the rounds of an IMP run) share their real features: computed once per
process, since the real examples drawn are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from jaxgen import evaluate  # noqa: E402

_REAL_FEATURES = evaluate.Evaluator._real_features  # pylint: disable=protected-access
_real_cache: dict[str, tuple] = {}


def _cached_real_features(self):
  """Evaluator._real_features, memoised on what decides the real examples and features."""
  key = json.dumps([self.dataset.spec.name, list(self.dataset.spec.shape), self.dataset_split,
                    self.seed, self.config.to_dict()], sort_keys=True, default=str)
  if key not in _real_cache:
    stats, features = _REAL_FEATURES(self)
    _real_cache[key] = (stats, features, self._reference)  # pylint: disable=protected-access
  stats, features, self._reference = _real_cache[key]  # pylint: disable=protected-access
  return stats, features


evaluate.Evaluator._real_features = _cached_real_features  # pylint: disable=protected-access


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("workdirs", nargs="+")
  parser.add_argument("--num_samples", type=int, default=1000)
  parser.add_argument("--resize", default="tf_bilinear")
  args = parser.parse_args()
  print("| run | step | N | FID | KID | precision | recall | FID-<dataset> | "
        "KID-<dataset> | precision / recall-<dataset> | eval wall time |")
  print("|---|---|---|---|---|---|---|---|---|---|---|")
  for workdir in args.workdirs:
    start = time.time()
    base = {"num_samples": args.num_samples}
    own_eval = os.path.join(workdir, "eval.json")
    kept = open(own_eval, "rb").read() if os.path.exists(own_eval) else None
    cls = evaluate.evaluate_run(workdir, overrides={**base, "feature_net": "classifier"})
    inc = evaluate.evaluate_run(workdir, overrides={**base, "feature_net": "inception",
                                                    "resize": args.resize})
    if kept is not None:  # e.g. experiments/zoo/train_zoo.py's table reads it
      with open(own_eval, "wb") as f:
        f.write(kept)
    with open(os.path.join(workdir, "eval_inception.json"), "w", encoding="utf-8") as f:
      json.dump({"inception": inc, "classifier": cls}, f, indent=2)
    m, c = inc["metrics"], cls["metrics"]
    tag = next(k for k in c if k.startswith("fid_")).removeprefix("fid_")
    print(f"| {workdir} | {inc['step']} | {args.num_samples} | {m['fid']:.1f} | "
          f"{m['kid']:.4f} ± {m['kid_std']:.4f} | {m['precision']:.3f} | {m['recall']:.3f} | "
          f"{c['fid_' + tag]:.3f} | {c['kid_' + tag]:.4f} | "
          f"{c['precision_' + tag]:.2f} / {c['recall_' + tag]:.2f} | "
          f"{(time.time() - start) / 60:.1f} min |", flush=True)


if __name__ == "__main__":
  main()
