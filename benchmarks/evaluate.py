"""Evaluation throughput: the whole scoring path against the bare model forward, same batches, same run.

The scoring path is what ``fsfm-bench run``/``eval`` execute for every target frame
(:func:`fsfm_bench.finetune.scoring.score_paths`): DataLoader workers read each PNG crop (OpenCV),
resize it, hand uint8 tensors over (pinned on CUDA), the model normalises on the device and scores
(AMP on CUDA), and scores are committed in atomically written chunks. The baseline is
``model.scores`` alone on the very same preprocessed uint8 batches already on the device. Target:
path / bare >= 0.9 (the loader is not the bottleneck).

    python benchmarks/evaluate.py                         # CPU, tiny ViT (quick, shared machines)
    python benchmarks/evaluate.py --arch vit_base_patch16_224 --images 64 --batch-size 16
    python benchmarks/evaluate.py --device cuda --arch vit_base_patch16_224 --images 8192 \
        --batch-size 256 --workers 16                     # the GPU figure (one call)

Prints a Markdown table row per repeat and the median ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np


def _write(args: tuple[str, int, int]) -> None:
    import cv2

    path, size, seed = args
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, size, dtype=np.float32)
    img = (base[None, :, None] * 0.5 + base[:, None, None] * 0.3 + rng.normal(0, 20, (size, size, 3))).clip(0, 255)
    cv2.imwrite(path, img.astype(np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])


def make_images(folder: Path, n: int, size: int, workers: int) -> list[str]:
    """n PNG crops like prepared data (size x size), written in parallel."""
    paths = [str(folder / f"{i:06d}.png") for i in range(n)]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(_write, [(p, size, i) for i, p in enumerate(paths)], chunksize=64))
    return paths


def build_model(arch: str, size: int):
    from fsfm_bench.finetune.model import build_classifier

    if arch == "tiny":
        backbone = {"type": "fsfm_bench.finetune.standins:tiny_vit", "img_size": size, "patch_size": 16,
                    "embed_dim": 64, "depth": 2, "num_heads": 2}
    else:   # the registered fsfm backbone (random init: weights do not change the speed)
        backbone = {"type": "fsfm", "arch": arch, "img_size": size, "checkpoint": None}
    return build_classifier({"backbone": backbone, "adapter": {"type": "fsfm_head"}})


def bare_forward(model, batches, device: str, amp: bool) -> tuple[float, np.ndarray]:
    """Seconds for the model alone on the preprocessed batches, and its scores (the check's reference)."""
    import torch

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    with torch.inference_mode():
        with torch.autocast(device, enabled=amp and device == "cuda"):
            model.scores(batches[0])                      # warm-up (cudnn/allocator)
        sync()
        start = time.perf_counter()
        out = []
        for b in batches:
            with torch.autocast(device, enabled=amp and device == "cuda"):
                out.append(model.scores(b).float().cpu())   # the path also brings scores back
        sync()
        seconds = time.perf_counter() - start
    return seconds, torch.cat(out).numpy().astype(np.float64)


def loader_alone(paths: list[str], args: argparse.Namespace) -> tuple[float, float]:
    """Seconds to the first batch and for the whole pass of the scorer's own loader with no model:
    the loader's ceiling, which the path cannot beat (worker start-up included, as in the path)."""
    from fsfm_bench.finetune.scoring import score_loader

    loader = score_loader(paths, list(range(len(paths))), size=args.size, batch_size=args.batch_size,
                          num_workers=args.workers, pin_memory=args.device == "cuda",
                          batched_reads=args.batched_reads)
    start = time.perf_counter()
    first = None
    for _ in loader:
        if first is None:
            first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--arch", default="tiny", help="tiny (stand-in) or a timm ViT name for the fsfm backbone")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-amp", action="store_true")
    parser.add_argument("--batched-reads", action="store_true",
                        help="loader workers decode whole batches (ScoreBatchDataset) instead of images + collate")
    args = parser.parse_args(argv)

    import torch

    from fsfm_bench.finetune.datasets import eval_preprocess, read_rgb
    from fsfm_bench.finetune.scoring import score_paths

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    amp = not args.no_amp
    torch.manual_seed(0)
    model = build_model(args.arch, args.size).to(args.device).eval()
    with tempfile.TemporaryDirectory(prefix="fsfm-bench-eval-") as tmp:
        folder = Path(tmp)
        paths = make_images(folder, args.images, args.size, args.workers)
        # the same batches the scorer builds, preprocessed once and put on the device for the baseline
        arrays = [eval_preprocess(read_rgb(p), args.size) for p in paths]
        batches = [torch.from_numpy(np.stack(arrays[i:i + args.batch_size]).transpose(0, 3, 1, 2).copy()).to(args.device)
                   for i in range(0, len(arrays), args.batch_size)]
        del arrays   # loader workers fork this process: it should not hold a second copy of the data
        name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU x{torch.get_num_threads()} threads"
        print(f"# {args.arch} @ {args.size}px, {args.images} images, batch {args.batch_size}, "
              f"{args.workers} workers, AMP {amp and args.device == 'cuda'}, {name}, torch {torch.__version__}")
        print("| repeat | bare forward (img/s) | loader alone (img/s) | first batch (s) | whole scoring path (img/s) | path / bare |")
        print("|---:|---:|---:|---:|---:|---:|")
        ratios = []
        score_paths(model, paths[: args.batch_size * 2], key={"warmup": "1"}, cache_root=folder / "warm",
                    size=args.size, batch_size=args.batch_size, num_workers=args.workers, device=args.device,
                    amp=amp, batched_reads=args.batched_reads)
        for r in range(args.repeat):
            bare, reference = bare_forward(model, batches, args.device, amp)
            first_s, loader_s = loader_alone(paths, args)
            start = time.perf_counter()
            report = score_paths(model, paths, key={"run": str(r)}, cache_root=folder / "cache", size=args.size,
                                 batch_size=args.batch_size, num_workers=args.workers, device=args.device,
                                 amp=amp, chunk_batches=20, batched_reads=args.batched_reads)
            if args.device == "cuda":
                torch.cuda.synchronize()
            path_s = time.perf_counter() - start
            # the figure is only meaningful if both paths did the same work and agree on it
            if report.scored != len(paths):
                raise SystemExit(f"the scoring path forwarded {report.scored} of {len(paths)} images")
            tol = 1e-2 if amp and args.device == "cuda" else 1e-5
            worst = float(np.abs(report.scores - reference).max())
            if not worst <= tol:
                raise SystemExit(f"scoring path and bare forward disagree: max |diff| {worst:.3g} > {tol}")
            ratio = bare / path_s
            ratios.append(ratio)
            print(f"| {r + 1} | {len(paths) / bare:.1f} | {len(paths) / loader_s:.1f} | {first_s:.2f} | "
                  f"{len(paths) / path_s:.1f} | {ratio:.3f} |")
        print(f"\nmedian path / bare = {statistics.median(ratios):.3f} (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
