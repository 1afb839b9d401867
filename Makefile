# `make demo` and `make test` each set up .venv on a fresh machine, then run.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-0.1.0
export NO_ALBUMENTATIONS_UPDATE := 1
export HF_HUB_OFFLINE := 1

.PHONY: install test lint demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Exactly these: a looser pin would let pip fetch a newer CUDA torch.
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check taskforget tasks tools tests benchmarks

# two workers, one thread each (the tests' thresholds were measured at 1 and 2 threads); a test
# file stays on one worker, so its module fixtures are trained once; the longest files start
# first (tests/conftest.py)
test: lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder tests

demo: install
	$(PY) tools/demo.py configs/demo_cifar10_cnn.py

clean:
	rm -rf work_dirs
