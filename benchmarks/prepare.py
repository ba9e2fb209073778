"""Data-preparation throughput on the bundled video (frames/s per stage and end to end).

Stages, each timed on the same N sampled frames of ``WolfgangLanger_Pexels.mp4`` (640x360, 472 frames):
decode (sampled reading with each installed reader), detect (dlib HOG, upsample 1, as FSFM),
crop (FF++ 1.3x box, resize), parse (LaPa maps; geometric, and dlib68 if its weights are here);
then the whole ``prepare`` pipeline on the video split into clips, with 1 and 2 worker processes.
Baseline in the same run: OpenCV decoding the whole video sequentially, against decord's sampled
reading of N frames (the ratio is what matters on a shared, noisy machine).

    python benchmarks/prepare.py [--frames 32] [--repeat 3] [--size 224] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--clips", type=int, default=8, help="pipeline: the video split into this many items")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import cv2

    from fsfm_bench.data.faces import crop_face, largest
    from fsfm_bench.data.items import MediaItem
    from fsfm_bench.data.prepare import PrepareOptions, prepare
    from fsfm_bench.data.video import available_readers, read_all_frames_opencv, read_sampled_frames
    from fsfm_bench.plugins import get
    from fsfm_bench_plugins.datasets.demo import default_root
    from fsfm_bench_plugins.parsers.landmarks import find_predictor

    cv2.setNumThreads(1)
    video = default_root() / "videos" / "WolfgangLanger_Pexels.mp4"
    n = args.frames
    rows: list[tuple[str, float, str]] = []

    decode = {}
    for reader in available_readers():
        t = best(lambda r=reader: read_sampled_frames(video, n, r), args.repeat)
        decode[reader] = t
        rows.append((f"decode, {reader}, {n} sampled frames", n / t, f"{t * 1000:.0f} ms"))
    few = max(1, n // 4)
    if "decord" in decode:
        t_few = best(lambda: read_sampled_frames(video, few, "decord"), args.repeat)
        rows.append((f"decode, decord, {few} sampled frames", few / t_few, f"{t_few * 1000:.0f} ms"))
    t_seq = best(lambda: read_all_frames_opencv(video), max(1, args.repeat - 1))
    total = read_all_frames_opencv(video)
    rows.append((f"baseline: OpenCV sequential decode of all {total} frames", total / t_seq, f"{t_seq * 1000:.0f} ms"))

    frames = read_sampled_frames(video, n).frames
    detector = get("detectors", "dlib_hog")()
    dets: list = []
    t = best(lambda: dets.__setitem__(slice(None), [largest(detector(f)) for f in frames]), args.repeat)
    rows.append(("detect, dlib_hog upsample 1 (640x360)", n / t, f"{t / n * 1000:.1f} ms/frame"))
    found = [(f, d) for f, d in zip(frames, dets, strict=True) if d is not None]
    t = best(lambda: [crop_face(f, d, args.size) for f, d in found], args.repeat)
    rows.append((f"crop, 1.3x box -> {args.size}px", len(found) / t, f"{t / len(found) * 1000:.2f} ms/frame"))
    parsers = ["geometric"] + (["dlib68"] if find_predictor() else [])
    for name in parsers:
        parser = get("parsers", name)()

        def run_parse(parser=parser):
            for f, d in found:
                lm = parser.landmarks(f, d)
                c = crop_face(f, d, args.size)
                parser.parse(c.image, c.to_crop(lm))
        t = best(run_parse, args.repeat)
        rows.append((f"parse, {name} (landmarks + crop + LaPa map)", len(found) / t,
                     f"{t / len(found) * 1000:.2f} ms/frame"))

    step = total // args.clips
    items = [MediaItem(path="videos/WolfgangLanger_Pexels.mp4", kind="video", label=0, video_id=f"clip{k}",
                       split="train", source="bench", meta={"frame_range": [k * step, (k + 1) * step]})
             for k in range(args.clips)]
    per_clip = max(1, n // args.clips)
    pipeline = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            opts = PrepareOptions(frames=per_clip, size=args.size, parser="geometric", workers=workers,
                                  progress=False)
            t0 = time.perf_counter()
            summary = prepare(items, default_root(), Path(tmp) / "out", opts, dataset="bench")
            t = time.perf_counter() - t0
        pipeline[workers] = summary["frames"]["rows"] / t
        rows.append((f"pipeline, prepare with {workers} worker(s), {args.clips} clips x {per_clip} frames",
                     pipeline[workers], f"{t:.2f} s for {summary['frames']['rows']} crops"))

    ratio = t_seq / decode["decord"] if "decord" in decode else float("nan")
    print(f"\n{'stage':<66} {'frames/s':>9}  detail")
    for name, fps, detail in rows:
        print(f"{name:<66} {fps:>9.1f}  {detail}")
    print(f"\ndecord sampled reading of {n} frames is {ratio:.1f}x faster than OpenCV sequential decoding "
          f"of the whole video ({total} frames)")
    if "decord" in decode:
        print(f"decord sampled reading of {few} frames: {t_seq / t_few:.1f}x faster than that baseline")
    print(f"2 workers vs 1: {pipeline[2] / pipeline[1]:.2f}x")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{platform.platform()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "decord_vs_opencv_sequential": ratio,
                                               "workers2_vs_1": pipeline[2] / pipeline[1]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
