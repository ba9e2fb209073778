"""The device's own ceilings, measured in the same call as the figures they bound.

MFU is quoted against the datasheet's dense bf16 peak (989 TFLOP/s for H100/H200 SXM), but a large
bf16 matrix product on random data reaches less than that on a real card; this script measures
that practical matmul ceiling (8192^3, random bf16, median of timed products after warm-up) and the
device-to-device copy bandwidth (bytes read + written), so a pretraining figure can also be read
as a fraction of what the card actually delivers.

    python benchmarks/gpu_ceiling.py --device cuda
    python benchmarks/gpu_ceiling.py --device cpu --size 512     # smoke check of the script
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch


def _timed(fn, device: str, repeat: int) -> float:
    """Median seconds of ``fn`` over ``repeat`` runs after 3 warm-ups (CUDA events on the GPU)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--size", type=int, default=8192, help="n of the n x n x n bf16 matmul")
    p.add_argument("--copy-mib", type=int, default=4096, help="size of the device-to-device copy")
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("no CUDA device")
    g = torch.Generator(device=args.device).manual_seed(0)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    a = torch.randn(args.size, args.size, device=args.device, generator=g).to(dtype)
    b = torch.randn(args.size, args.size, device=args.device, generator=g).to(dtype)
    mm_s = _timed(lambda: a @ b, args.device, args.repeat)
    n = args.copy_mib * 2**20 // 4
    src = torch.randn(n, device=args.device, generator=g)
    dst = torch.empty_like(src)
    copy_s = _timed(lambda: dst.copy_(src), args.device, args.repeat)
    if not torch.equal(dst, src):
        raise SystemExit("the copy did not copy")
    out = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
           "torch": torch.__version__, "matmul_n": args.size, "matmul_dtype": str(dtype),
           "matmul_tflops": round(2 * args.size ** 3 / mm_s / 1e12, 4),
           "copy_tb_per_s_read_plus_write": round(2 * src.numel() * 4 / copy_s / 1e12, 3)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
