#!/usr/bin/env bash
# Issue 20's one prepared GPU call: a lite_unet recipe (configs/research/lite2-192.yaml unless
# packed from another) trained at length on a lent single-GPU machine with PyTorch and no
# network, where the two CPU cores give it about eight epochs a working day.
#
# Here, first (the tree travels with what a call carries, 64 MiB in all; the bundled weights
# alone are 64 MiB, and this run needs none of them):
#   .venv/bin/python scripts/gpu/pack_colour.py          # .gpu/colour.zip, encoder weights
#   .venv/bin/pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 -d .whl kornia==0.9.0 \
#     kornia_rs==0.2.0 efficientnet-lite-pytorch==0.1.0
#   mkdir -p /tmp/aside && mv src/colorgan/weights/*.onnx src/colorgan/weights/*.safetensors /tmp/aside
# then call the device with `bash scripts/gpu/run_colour.sh`, carrying .gpu/colour.zip,
# .gpu/encoder_fp16.safetensors and .whl, and afterwards `git checkout -- src/colorgan/weights`.
# Writes under $OUT:
#   probe.csv, train.log, losses.csv   the rate probe, the run's log and curves
#   generator.safetensors              the trained generator (fp16; `colorgan export` of the run)
#   samples.png                        its last grid of validation photos
# Epochs are sized from a probe's measured rate to fill TRAIN_SECONDS (EPOCHS overrides);
# the global batch is BATCH (64) at LR (1e-3: the recipe's 5e-4 at 16, scaled by the square
# root of the batch).
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/colorgan-gpu}
TRAIN_SECONDS=${TRAIN_SECONDS:-420}
PROBE_STEPS=${PROBE_STEPS:-150}
BATCH=${BATCH:-64}
LR=${LR:-1.0e-3}
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start)) s] $*"; }

[ -f .gpu/colour/config.yaml ] || python3 -m zipfile -e .gpu/colour.zip .gpu || exit 1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/src:$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
RECIPE=.gpu/colour/config.yaml
SET=(--set "train.batch_size=$BATCH" --set "train.pretrain_lr=$LR" --set train.checkpoint_every=1000
     --set train.sample_every=2000 --set train.log_every=20 --set out_dir=runs/gpu-colour)

if [ -z "${EPOCHS:-}" ]; then
  stamp "probe: the step rate"
  timeout 180 python3 -m colorgan train "$RECIPE" -q "${SET[@]}" --set name=probe \
    --max-steps "$PROBE_STEPS" >"$OUT/probe.log" 2>&1
  cp runs/gpu-colour/probe/losses.csv "$OUT/probe.csv" 2>/dev/null
  # photos a second past the first 20 steps (start-up, cudnn's choices), then epochs that fill
  # TRAIN_SECONDS at 85% of it (validation after each epoch; the clock's whole seconds)
  EPOCHS=$(python3 - "$OUT/probe.csv" "$TRAIN_SECONDS" "$BATCH" <<'EOF'
import csv, sys
sys.path.insert(0, "src")
from colorgan.config import load_config
from colorgan.training.photos import split_sources
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["l1"]]
steps, seconds = int(rows[-1]["step"]) - int(rows[0]["step"]), int(rows[-1]["time"]) - int(rows[0]["time"])
rate = steps * int(sys.argv[3]) / max(seconds, 1)
per_epoch = sum(len(t) * w for t, _, w in split_sources(load_config(".gpu/colour/config.yaml").data))
print(max(1, int(float(sys.argv[2]) * 0.85 * rate / per_epoch)))
EOF
  ) || { tail -20 "$OUT/probe.log"; exit 1; }
fi
stamp "training: $EPOCHS epochs"
timeout $((TRAIN_SECONDS + 120)) python3 -m colorgan train "$RECIPE" -q "${SET[@]}" \
  --set "train.pretrain_epochs=$EPOCHS" --max-minutes "$(python3 -c "print($TRAIN_SECONDS / 60)")" \
  2>&1 | tee "$OUT/train.log"
run=runs/gpu-colour/$(python3 -c "import yaml; print(yaml.safe_load(open('$RECIPE'))['name'])")
cp "$run/losses.csv" "$OUT/" 2>/dev/null
python3 -m colorgan export "$run" --half --out "$OUT/generator.safetensors"
last=$(ls "$run"/samples/*.png 2>/dev/null | tail -1)
[ -n "$last" ] && cp "$last" "$OUT/samples.png"
stamp "done"
