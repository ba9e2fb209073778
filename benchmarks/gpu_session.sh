#!/usr/bin/env bash
# The GPU checks of issues 5, 7 and 13 as one prepared call (a lent H200 has ~15 device-minutes per task).
# Run from the repo root on the GPU machine, with the wheels the image lacks in .whl/ (see
# benchmarks/README.md, "GPU session"). Every figure is also written under $OUT (or ./gpu-out).
set -uo pipefail
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . >/dev/null 2>&1 || export PYTHONPATH=$PWD:${PYTHONPATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, timm, mmengine; print('torch', torch.__version__, 'timm', timm.__version__, 'mmengine', mmengine.__version__)" | tee -a "$OUT/gpu.txt"
python3 -m fsfm_bench plugins | tee -a "$OUT/gpu.txt"

step() { local name=$1 limit=$2; shift 2; echo "=== $name: $*"; timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; echo "=== $name exit ${PIPESTATUS[0]}"; }
step pretrain_gpu 180 python3 benchmarks/pretrain_gpu.py --device cuda
step evaluate_gpu 120 python3 benchmarks/evaluate.py --device cuda --arch vit_base_patch16_224 --images 8192 --batch-size 256 --workers 16
step masking_cuda_test 60 python3 -m pytest -q -p no:cacheprovider tests/test_masking_crfr_p.py -k cuda
step masking_gpu 60 python3 benchmarks/masking.py --device cuda --json "$OUT/masking.json"
step perturb_gpu 120 python3 benchmarks/perturb.py --device cuda
