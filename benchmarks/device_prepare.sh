#!/usr/bin/env bash
# Prepares, once and here, a call of benchmarks/paper_protocol.sh on a lent GPU machine (the
# device tool; its image has Python 3.12 and torch, not this package's other dependencies):
# the wheels it lacks, at the versions installed in .venv, and the CIFAR-10 archive, into the
# git-ignored .device/ (about 35 MB), which the call carries:
#   run(command="bash benchmarks/paper_protocol.sh", carry=[".device"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ARCHIVES=${TASKFORGET_ARCHIVES:-../shared/data}
mkdir -p .device/wheels .device/archives
cp "$ARCHIVES/cifar10-jpeg.tar.gz" .device/archives/
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do PLATFORMS+=(--platform "$p"); done
# the dependencies (pyproject.toml) and their own that the GPU image lacks; grad-cam comes
# as a source archive only, so its (pure Python) wheel is built here
for name in mmengine addict yapf termcolor platformdirs albumentations albucore pydantic \
            pydantic_core annotated-types typing-inspection simsimd stringzilla \
            segmentation_models_pytorch facenet-pytorch ttach; do
  version=$("$PY" -c "import importlib.metadata as m; print(m.version('$name'))")
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp "${PLATFORMS[@]}" -d .device/wheels "$name==$version"
done
version=$("$PY" -c "import importlib.metadata as m; print(m.version('grad-cam'))")
python3 -m pip wheel -q --no-deps -w .device/wheels "grad-cam==$version"
du -sh .device
