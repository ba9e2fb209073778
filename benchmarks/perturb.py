"""Robustness perturbations: cost of perturbing a batch against the model forward on it, same run.

What ``perturb=`` adds per condition on the scoring device is one perturbation of each batch
(:meth:`fsfm_bench.perturb.scoring.ScorePerturbation.batch`, the very call the scorer makes:
per-sample keys indexed and moved to the device, uint8 in and out); the forward on that batch is
paid anyway. The baseline is ``model.scores`` (ViT-B/16 by default, AMP on CUDA as the scorer) on
the same uint8 batch. Target: every image family at most 10 % of the forward. Video compression
(VC) is timed too but runs in the loader (CPU, PyAV, one video per call, parallel over workers):
its figure is per batch on one core and is not held to the device target.

    python benchmarks/perturb.py --smoke                  # CPU, tiny model, batch 8 (seconds)
    python benchmarks/perturb.py --batch 256 --repeat 1   # the CPU figure (ViT-B/16, minutes)
    python benchmarks/perturb.py --device cuda            # the GPU figure (ViT-B/16, batch 256)

Prints a Markdown table and, last, one JSON line with every figure and ``max_image_ratio``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import build_model  # noqa: E402  (benchmarks/evaluate.py: the same tiny or fsfm ViT)


def face_like_batch(n: int, size: int, seed: int = 0) -> np.ndarray:
    """uint8 [n, 3, size, size]: smooth gradients plus texture noise (crops are neither flat nor random)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    base = ramp[None, None, :, None] * 0.5 + ramp[None, None, None, :] * 0.3
    imgs = base + rng.normal(0, 20, (n, 3, size, size)).astype(np.float32) + rng.uniform(-30, 30, (n, 3, 1, 1))
    return imgs.clip(0, 255).astype(np.uint8)


def timed(fn, device: str, repeat: int, warmup: int) -> tuple[float, object]:
    """Median seconds of ``fn()`` over ``repeat`` calls after ``warmup`` (CUDA synchronised)."""
    import torch

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    out = None
    for _ in range(warmup):
        out = fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--arch", default="vit_base_patch16_224", help="tiny (stand-in) or a timm ViT name")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--level", type=int, default=5, choices=range(1, 6), help="severity (5 = the costliest)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--vc-frames", type=int, default=32, help="frames per video for the VC timing")
    parser.add_argument("--no-amp", action="store_true", help="fp32 forward on CUDA (the scorer uses AMP)")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny model, batch 8, 64 px, one repeat")
    args = parser.parse_args(argv)
    if args.smoke:
        args.device, args.arch, args.batch, args.size, args.repeat, args.warmup, args.vc_frames = \
            "cpu", "tiny", 8, 64, 1, 1, 4

    import torch

    from fsfm_bench.perturb import families
    from fsfm_bench.perturb.scoring import ScorePerturbation

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    amp = args.device == "cuda" and not args.no_amp
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    torch.manual_seed(0)
    model = build_model(args.arch, args.size).to(args.device).eval()
    host = face_like_batch(args.batch, args.size)
    images = torch.from_numpy(host).to(args.device)
    idx = torch.arange(args.batch)
    ids = [f"bench/{i:06d}.png" for i in range(args.batch)]

    def forward():
        with torch.inference_mode(), torch.autocast(args.device, enabled=amp):
            return model.scores(images)

    name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU x{torch.get_num_threads()} threads"
    print(f"# {args.arch} @ {args.size}px, batch {args.batch}, level {args.level}, AMP {amp}, {name}, "
          f"torch {torch.__version__}")
    fwd_s, _ = timed(forward, args.device, args.repeat, args.warmup)
    print("| perturbation | where | ms per batch | / forward |")
    print("|---|---|---:|---:|")
    print(f"| forward ({args.arch}) | {args.device} | {1000 * fwd_s:.2f} | 1 |")
    figures: dict[str, dict[str, float]] = {}
    for code, fam in families().items():
        sp = ScorePerturbation(fam, args.level, ids, 0, [f"v{i // args.vc_frames}" for i in range(args.batch)])
        if fam.kind == "image":
            with torch.inference_mode():
                secs, out = timed(lambda sp=sp: sp.batch(images, idx), args.device, args.repeat, args.warmup)
            if out.shape != images.shape or out.dtype != torch.uint8 or torch.equal(out, images):
                raise SystemExit(f"{code}: the perturbation returned {tuple(out.shape)} {out.dtype}, or the input")
            where = args.device
        else:                      # loader side: the batch as videos of --vc-frames frames, on one core
            try:
                import av  # noqa: F401
            except ImportError:
                print(f"| {code} ({fam.title}) | skipped: PyAV is not installed | – | – |")
                continue
            frames = host.transpose(0, 2, 3, 1)
            videos = [frames[i:i + args.vc_frames] for i in range(0, args.batch, args.vc_frames)]
            secs, _ = timed(lambda fam=fam, videos=videos: [fam.apply_video(v, args.level) for v in videos], "cpu",
                            args.repeat, min(args.warmup, 1))
            where = f"loader (CPU, 1 core, videos of {args.vc_frames})"
        figures[code] = {"ms": 1000 * secs, "ratio": secs / fwd_s, "where": where}
        print(f"| {code} ({fam.title}) | {where} | {1000 * secs:.2f} | {secs / fwd_s:.4f} |")
    image = {k: v for k, v in figures.items() if not v["where"].startswith("loader")}
    worst = max(image, key=lambda k: image[k]["ratio"])
    print(f"\nmax image-family ratio: {worst} {image[worst]['ratio']:.4f} (target <= 0.10)")
    print(json.dumps({"device": args.device, "name": name, "arch": args.arch, "batch": args.batch, "size": args.size,
                      "level": args.level, "amp": amp, "forward_ms": 1000 * fwd_s, "families": figures,
                      "max_image_family": worst, "max_image_ratio": image[worst]["ratio"], "target": 0.10}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
