"""FSFM 3C pretraining throughput on one GPU: ViT-B/16, batch 256, bf16, fused attention.

Reports images/s, peak memory and model FLOPs utilisation (MFU = FLOPs of one training step,
counted by torch.utils.flop_counter on the real step, x steps/s / the GPU's peak dense bf16 FLOPs).
The step is the engine's computation (CRFR-P masking on the device, online forward, full-image
EMA-target forward, backward, clip 1.0, fused AdamW, EMA update); data loading is not included.
Runs in one call of a few minutes on an H200 (the lead runs it):

    python benchmarks/pretrain_gpu.py --device cuda                 # fsfm, then mae for the ratio
    python benchmarks/pretrain_gpu.py --device cuda --compile       # torch.compile'd model
    python benchmarks/pretrain_gpu.py --smoke                       # tiny model on the CPU (checks the script)
    python benchmarks/pretrain_gpu.py --device cuda --profile 3     # + torch.profiler's top ops per algo
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pretrain_step import Step  # noqa: E402

PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "B200": 2250.0}


def force_fused_attention(net: torch.nn.Module) -> int:
    """timm Attention uses F.scaled_dot_product_attention when ``fused_attn``; make sure it does."""
    n = 0
    for m in net.modules():
        if hasattr(m, "fused_attn"):
            m.fused_attn = True
            n += 1
    return n


def step_flops(step: Step) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


def profile_top_ops(step: Step, steps: int, rows: int = 8) -> list[dict]:
    """The ops that take the most device time (self time, so nested ops are not counted twice)
    over ``steps`` profiled steps: where a missed MFU target goes. Prints torch's own table too."""
    from torch.profiler import ProfilerActivity, profile

    cuda = step.device == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        step.sync()
    from torch.autograd import DeviceType

    events = prof.key_averages()
    # operators only: their self device time already counts the kernels they launched, which the
    # profiler also lists as events of their own (counting both would double the total)
    events = [e for e in events if getattr(e, "device_type", DeviceType.CPU) == DeviceType.CPU]
    key = "self_cpu_time_total"
    if cuda:   # torch >= 2.4 names it *device*; the *cuda* name is the older (now deprecated) one
        key = "self_device_time_total" if hasattr(events[0], "self_device_time_total") else "self_cuda_time_total"
    total = sum(getattr(e, key) for e in events) or 1.0
    top = sorted(events, key=lambda e: getattr(e, key), reverse=True)[:rows]
    print(prof.key_averages().table(sort_by=key, row_limit=rows), file=sys.stderr)
    return [{"op": e.key, "self_ms_per_step": round(getattr(e, key) / 1e3 / steps, 3),
             "share": round(getattr(e, key) / total, 4), "calls_per_step": e.count // steps} for e in top]


def run(algo: str, args: argparse.Namespace) -> dict:
    step = Step(algo, args.model, args.batch, args.device, args.amp, args.masking, args.compile,
                compile_blocks=args.compile_blocks)
    n_attn = force_fused_attention(step.net)
    for _ in range(args.warmup):
        step()
    step.sync()
    flops = step_flops(step)
    step.sync()
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, losses = [], []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        losses.append(step())      # float() syncs: the loss is read every step, as a logger would
        step.sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    out = {"algo": algo, "step_s": round(med, 4), "images_per_s": round(args.batch / med, 1),
           "gflop_per_step": round(flops / 1e9, 1), "achieved_tflops": round(flops / med / 1e12, 1),
           "fused_attention_modules": n_attn, "last_loss": round(losses[-1], 4)}
    if args.device == "cuda":
        out["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    if args.peak_tflops:
        out["mfu"] = round(flops / med / (args.peak_tflops * 1e12), 4)
    if args.profile:
        out["top_ops"] = profile_top_ops(step, args.profile)
    del step
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--model", default="vit_base")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--amp", default="bf16", choices=["bf16", "fp16", "fp32"])
    p.add_argument("--masking", default="crfr_p")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--algos", default="fsfm,mae")
    p.add_argument("--compile", action="store_true", help="torch.compile the whole model")
    p.add_argument("--compile-blocks", action="store_true",
                   help="torch.compile each transformer block in place (regional compilation)")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="peak dense bf16 TFLOP/s of the GPU (default: looked up by name, H200 989)")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="after timing, profile N more steps and report the top ops by device self time")
    p.add_argument("--smoke", action="store_true", help="tiny model, batch 4, 2 steps, CPU fp32")
    args = p.parse_args(argv)
    if args.smoke:
        args.device, args.model, args.batch, args.amp = "cpu", "tiny", 4, "fp32"
        args.steps, args.warmup = 2, 1
    if args.device == "cuda":
        if not torch.cuda.is_available():
            p.error("no CUDA device; use --smoke to check the script on the CPU")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        name = torch.cuda.get_device_name()
        if args.peak_tflops is None:
            args.peak_tflops = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    else:
        name = "cpu"
    results = {"device": name, "model": args.model, "batch": args.batch, "amp": args.amp,
               "compile": args.compile, "compile_blocks": args.compile_blocks, "peak_tflops": args.peak_tflops, "torch": torch.__version__,
               "runs": [run(a, args) for a in args.algos.split(",") if a]}
    runs = {r["algo"]: r for r in results["runs"]}
    if "fsfm" in runs and "mae" in runs:
        results["time_ratio_fsfm_over_mae"] = round(runs["fsfm"]["step_s"] / runs["mae"]["step_s"], 3)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
