#!/usr/bin/env bash
# Issue #12 item 8: the paper's protocol on a lent GPU, as one prepared call of about 10 min
# (benchmarks/device_prepare.sh first): ResNet-18 on CIFAR-10 with its pretraining SHORTENED to
# 15 one-cycle epochs (configs/cls_cifar10_resnet18_short.py), the retrain model without
# airplane, then DELETE and the tuning's three best training-based forget-set baselines
# (benchmarks/cost_curve.py's rule over docs/results/classification/tuning.csv, among the
# methods whose search is complete: none while it is not) at their selected settings, one seed,
# forgetting airplane. The tables, audits and ledger go to
# work_dirs/paper_protocol*/out; log.txt, table1.md/.csv, table1_vs_paper.md, table1_audit.md,
# runs.jsonl and audit.tgz are copied to $OUT (the device tool brings back 8 files at most),
# also when the call is stopped. Every stage prints its wall time; a rerun reuses what is done.
#   QUICK=1 bash benchmarks/paper_protocol.sh   # a few images, 1 epoch, on a CPU: checks it
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 NO_ALBUMENTATIONS_UPDATE=1
# its own work root: the QUICK check, or other loader settings, are runs of other settings
WORK=${WORK:-work_dirs/paper_protocol$([ "${QUICK:-0}" = 1 ] && echo _quick)}
RESULTS=$WORK/out
OUT=${OUT:-$RESULTS}
mkdir -p "$OUT" "$RESULTS"
exec > >(tee -a "$OUT/log.txt") 2>&1
PY=${PY:-python3}
if [ -d .device/wheels ] && ! "$PY" -c "import mmengine" 2>/dev/null; then
  # the GPU image: what it lacks, then this package (editable: work_dirs stay in this tree)
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
      .device/wheels/*.whl
  export PYTHONPATH=/tmp/site
  "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e .
fi
[ -d .device/archives ] && export TASKFORGET_ARCHIVES="$PWD/.device/archives"
"$PY" -c "import torch; print('device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu', '| torch', torch.__version__)"

CFG=configs/cls_cifar10_resnet18_short.py
WORKERS=${WORKERS:-8}
PERSIST=$([ "$WORKERS" -gt 0 ] && echo True || echo False)
OPTS=()
for loader in train forget val test; do
  OPTS+=("${loader}_dataloader.num_workers=$WORKERS" "${loader}_dataloader.persistent_workers=$PERSIST")
done
AUDIT=500
if [ "${QUICK:-0}" = 1 ]; then
  OPTS+=(train_dataloader.dataset.max_per_class=20 forget_dataloader.dataset.max_per_class=20
         val_dataloader.dataset.max_per_class=5 test_dataloader.dataset.max_per_class=5
         pretrain.train_cfg.max_epochs=1 pretrain.param_scheduler.0.end=1
         forget.train_cfg.max_epochs=1)
  AUDIT=5
fi
copy_back() {  # the few files worth bringing back, into $OUT
  [ "$(cd "$OUT" && pwd)" = "$(cd "$RESULTS" && pwd)" ] && return
  for f in table1.md table1.csv table1_vs_paper.md table1_audit.md runs.jsonl; do
    [ -f "$RESULTS/$f" ] && cp "$RESULTS/$f" "$OUT/"
  done
  [ -d "$RESULTS/audit" ] && tar czf "$OUT/audit.tgz" -C "$RESULTS" audit
  return 0
}
trap copy_back EXIT
trap 'exit 143' TERM
stage() { local t=$SECONDS; "$@"; echo "[paper_protocol] $(( SECONDS - t )) s: ${*:1:4}"; }
# a rerun keeps the models it has (a GPU's training is not bit-reproducible: retraining them
# would make every unlearning run another run)
[ -f "$WORK/original.pth" ] || stage "$PY" tools/train.py "$CFG" --work-dir "$WORK" \
    --cfg-options "${OPTS[@]}"
[ -f "$WORK/retrain_airplane_seed0.pth" ] || stage "$PY" tools/train.py "$CFG" \
    --work-dir "$WORK" --retrain --cfg-options "${OPTS[@]}"
BASELINES=$("$PY" -c "
import sys; sys.path.insert(0, 'benchmarks')
import cost_curve, tuning
rows = tuning.read_tuning(tuning.ROOT / 'docs/results/classification/tuning.csv')
tuned = cost_curve.tuned_methods(tuning.ROOT / 'configs/_base_/tuned/cls_cifar10_resnet20_cpu.py')
print(' '.join(cost_curve.best_baselines(cost_curve.selected_scores(rows), 3, tuned)))")
echo "[paper_protocol] DELETE and the three best baselines: $BASELINES"
stage "$PY" benchmarks/cls_cifar10.py --config "$CFG" --sections table1 --seeds 0 \
    --reported airplane --methods delete $BASELINES --work-dir "$WORK" --out "$RESULTS" \
    --audit-per-class "$AUDIT" --cfg-options "${OPTS[@]}"
