#!/usr/bin/env bash
# The GPU checks of issues 5, 7, 13 and 14 as one prepared call (a lent H200 has ~15 device-minutes per task).
# Run from the repo root on the GPU machine, with the wheels the image lacks in .whl/ (see
# benchmarks/README.md, "GPU session"). Every figure is also written under $OUT (or ./gpu-out).
set -uo pipefail
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
# The project itself: from its wheel in .whl/ when there is one (built here: `pip wheel --no-deps -w .whl .`;
# the device image's setuptools may not build it), else an editable install.
if ! ls .whl/fsfm_bench-*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . >/dev/null 2>&1 || export PYTHONPATH=$PWD:${PYTHONPATH:-}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, timm, mmengine; print('torch', torch.__version__, 'timm', timm.__version__, 'mmengine', mmengine.__version__)" | tee -a "$OUT/gpu.txt"
python3 -m fsfm_bench plugins | tee -a "$OUT/gpu.txt"

# ONLY="a b" runs just the steps so named (a rerun of part of the session in a second call).
step() { local name=$1 limit=$2; shift 2; if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi; echo "=== $name: $*"; timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; echo "=== $name exit ${PIPESTATUS[0]}"; }
# At most 8 files come back from a device call: gpu.txt and one log per step (the figures are in the logs).
# The nine steps write nine logs, so a whole session is two calls, e.g. the first six steps, then
# ONLY="evaluate_gpu_batched perturb_gpu pretrain_gpu_compile_blocks".
step ceiling 45 python3 benchmarks/gpu_ceiling.py --device cuda
step pretrain_gpu 120 python3 benchmarks/pretrain_gpu.py --device cuda --profile 3
step evaluate_gpu 100 python3 benchmarks/evaluate.py --device cuda --arch vit_base_patch16_224 --images 8192 --batch-size 256 --workers 16
step masking_cuda_test 45 python3 -m pytest -q -p no:cacheprovider tests/test_masking_crfr_p.py -k cuda
step masking_gpu 45 python3 benchmarks/masking.py --device cuda
step pretrain_gpu_compile 150 python3 benchmarks/pretrain_gpu.py --device cuda --compile --steps 10
step evaluate_gpu_batched 100 python3 benchmarks/evaluate.py --device cuda --arch vit_base_patch16_224 --images 8192 --batch-size 256 --workers 16 --batched-reads
step perturb_gpu 120 python3 benchmarks/perturb.py --device cuda
step pretrain_gpu_compile_blocks 200 python3 benchmarks/pretrain_gpu.py --device cuda --compile-blocks --warmup 5 --steps 10
