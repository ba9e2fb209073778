"""Masking benchmark: batched crfr_p against a per-sample loop of the same algorithm, same run.

    python benchmarks/masking.py                      # CPU, 256 maps of 224x224
    python benchmarks/masking.py --device cuda        # batched and loop on the GPU
    python benchmarks/masking.py --device cuda --loop-device cpu   # vs FSFM's CPU collate

Both implementations see the same synthetic face-like maps and the same forced region sequence;
they are timed in alternating rounds (one loop call, then the median of ``--per-round`` batched
calls) so both see the same load on a shared machine, after a warm-up; the script also checks
that both give exactly K masked patches per row and the same covered-region patches (``focus``).
Prints a markdown table (paste it into benchmarks/README.md) and optionally writes JSON.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masking_baseline import crfr_p_loop  # noqa: E402

import fsfm_bench  # noqa: E402
from fsfm_bench.io import atomic_write_json  # noqa: E402
from fsfm_bench_plugins.masking.synthetic import face_maps  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _interleaved(batched, loop, device, loop_device, rounds: int, per_round: int):
    """Alternate the two implementations so both see the same load on a shared machine."""
    batched(0), loop(0)                                # warm-up (allocator, kernels)
    times_b, times_l, ratios = [], [], []
    for r in range(rounds):
        t_loop = _timed(partial(loop, r), loop_device)
        t_batch = statistics.median(_timed(partial(batched, r * per_round + i), device)
                                    for i in range(per_round))
        times_l.append(t_loop)
        times_b.append(t_batch)
        ratios.append(t_loop / t_batch)
    return times_b, times_l, ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--loop-device", help="device of the per-sample loop (default: --device)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--patch", type=int, default=16)
    parser.add_argument("--ratio", type=float, default=0.75)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (1 loop call, N batched calls)")
    parser.add_argument("--per-round", type=int, default=3, help="batched calls per round (median)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    loop_device = torch.device(args.loop_device or args.device)

    maps = face_maps(args.batch, args.size, torch.Generator().manual_seed(0), device=device)
    strategy = fsfm_bench.build_masking("crfr_p", mask_ratio=args.ratio, patch_size=args.patch)
    gen = torch.Generator(device=device).manual_seed(0)
    loop_maps = maps.to(loop_device)
    loop_gen = torch.Generator(device=loop_device).manual_seed(0)
    num = (args.size // args.patch) ** 2
    k = int(num * args.ratio)

    # Same algorithm, same region: focus must agree exactly, both exactly K per row.
    for region in range(6):
        mask_b, focus_b = strategy(maps, generator=gen, region=region)
        mask_l, focus_l = crfr_p_loop(loop_maps, args.ratio, args.patch, loop_gen, region=region)
        if not torch.equal(focus_b.cpu(), focus_l.cpu()):
            raise SystemExit(f"focus differs for region {region}: batched and loop disagree")
        if not ((mask_b.sum(1) == k).all() and (mask_l.sum(1) == k).all()):
            raise SystemExit(f"region {region}: a row does not hold exactly K={k} masked patches")

    batched, loop, ratios = _interleaved(
        lambda i: strategy(maps, generator=gen, region=i % 6),
        lambda i: crfr_p_loop(loop_maps, args.ratio, args.patch, loop_gen, region=i % 6),
        device, loop_device, args.rounds, args.per_round)
    med_b, med_l = statistics.median(batched), statistics.median(loop)
    figures = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "device": str(device), "loop_device": str(loop_device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "batch": args.batch, "size": args.size, "patch": args.patch, "mask_ratio": args.ratio,
        "batched_ms_median": 1000 * med_b, "batched_ms_best": 1000 * min(batched),
        "loop_ms_median": 1000 * med_l, "loop_ms_best": 1000 * min(loop),
        "speedup_median": med_l / med_b, "speedup_best": min(loop) / min(batched),
        "speedup_per_round": ratios, "speedup_median_of_rounds": statistics.median(ratios),
        "batched_maps_per_s": args.batch / med_b,
    }
    print(f"crfr_p, {args.batch} maps {args.size}x{args.size}, patch {args.patch}, ratio {args.ratio}, "
          f"device {device} ({figures['device_name']}), loop on {loop_device}, torch {torch.__version__}, "
          f"{figures['threads']} threads")
    print("| implementation | median ms / batch | best ms / batch | maps / s (median) |")
    print("|---|---|---|---|")
    print(f"| per-sample loop (benchmarks/masking_baseline.py) | {1000 * med_l:.1f} | "
          f"{1000 * min(loop):.1f} | {args.batch / med_l:.0f} |")
    print(f"| batched crfr_p (plugins/masking) | {1000 * med_b:.1f} | {1000 * min(batched):.1f} | "
          f"{args.batch / med_b:.0f} |")
    print(f"| **speed-up** | **{figures['speedup_median']:.1f}x** | {figures['speedup_best']:.1f}x | |")
    print(f"speed-up per round (loop / batched in the same round): "
          f"{', '.join(f'{r:.1f}x' for r in ratios)}; median {figures['speedup_median_of_rounds']:.1f}x")
    if args.json:
        atomic_write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
