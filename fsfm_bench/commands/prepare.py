"""``fsfm-bench prepare dataset=NAME root=PATH out=PATH [key=value ...]``: face crops + parsing + manifest.

Keys (defaults in brackets; a dataset may bring its own defaults, e.g. ``demo``):
  frames=N [32]          frames per video, uniform linspace(0, T-1, N); 0 = every frame
  frames_real=N, frames_fake=N   per-class counts overriding frames= for real (label 0) / fake
                         (label 1) videos; FSFM's cdfd: frames=32 frames_real=128
  size=S [224]           crop side in pixels (size=null keeps the native crop, as the official code)
  detector=NAME [dlib_hog] / parser=NAME [auto]   see `fsfm-bench ls detectors` / `ls parsers`
  detector.KEY=V, parser.KEY=V                    options of those (e.g. detector.upsample=0)
  align=BOOL [false]     5-point similarity alignment (needs mtcnn or parser=dlib68); or
                         align=mtcnn_chip (the MCIO chip, chip_padding=0.37; needs detector=mtcnn)
  frame_sampling=uniform|mcio [uniform]  mcio: frames 6 and 6+T/2 (the FAS preprocessing)
  scale=F [1.3]          crop side / detection side;   detect_max_side=PX [1920]
  reader=auto|decord|pyav|opencv [auto];  workers=N [1];  seed=N [0];  progress=BOOL [true]
  augment=N [0]          augmented copies of each still image
  forgeries.SPLIT=a,b    synthetic forgery families made from each real crop of SPLIT
  fakes_per_real=N [1];  data.KEY=V: options of the dataset adapter (e.g. data.compression=c23)
Rerunning the same command resumes: finished media are skipped.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import Any

from ..errors import FsfmBenchError, UsageError, did_you_mean

TOP_KEYS = ("dataset", "root", "out")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="dataset=NAME root=PATH out=PATH and the keys below")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")


def split_options(raw: dict[str, Any], dataset_defaults: dict[str, Any] | None = None):
    """key=value dict -> (PrepareOptions, dataset index options); unknown keys are UsageErrors."""
    from ..data.prepare import PrepareOptions

    names = {f.name for f in fields(PrepareOptions)}
    values: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in (dataset_defaults or {}).items()}
    data_opts: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_KEYS:
            continue
        head, _, rest = key.partition(".")
        if head == "data" and rest:
            data_opts[rest] = value
        elif head in ("detector", "parser") and rest:
            values.setdefault(f"{head}_options", {})[rest] = value
        elif head == "forgeries" and rest:
            values.setdefault("forgeries", {})
            values["forgeries"][rest] = [] if value in (None, "", "none") else (
                value if isinstance(value, list) else [value])
        elif head == "forgery" and rest and "." in rest:
            fam, _, opt = rest.partition(".")
            values.setdefault("forgery_options", {}).setdefault(fam, {})[opt] = value
        elif key in names:
            values[key] = value
        else:
            raise UsageError(f"prepare has no key {key!r}." + did_you_mean(key, [*TOP_KEYS, *names])
                             + " See `fsfm-bench prepare --help`.")
    for key in ("frames", "workers", "seed", "augment", "fakes_per_real"):
        if key in values and (not isinstance(values[key], int) or isinstance(values[key], bool)):
            raise UsageError(f"{key} must be an integer, got {values[key]!r}")
    for key in ("frames_real", "frames_fake"):
        if values.get(key) is not None and (not isinstance(values[key], int) or isinstance(values[key], bool)):
            raise UsageError(f"{key} must be an integer number of frames per video (0 = all) or null, "
                             f"got {values[key]!r}")
    if "size" in values and values["size"] is not None and not isinstance(values["size"], int):
        raise UsageError(f"size must be an integer number of pixels or null, got {values['size']!r}")
    if values.get("workers", 1) < 1:
        raise UsageError("workers must be >= 1")
    return PrepareOptions(**values), data_opts


def main(args: argparse.Namespace) -> int:
    from ..config import parse_overrides
    from ..data.prepare import prepare
    from ..plugins import get

    raw = parse_overrides(args.options)
    if getattr(args, "quiet", False):
        from ..progress import set_mode

        set_mode("off")
    if "dataset" not in raw:
        raise UsageError("prepare needs dataset=NAME (see `fsfm-bench ls datasets`)")
    dataset = str(raw["dataset"])
    adapter = get("datasets", dataset)()
    root = raw.get("root")
    if root in (None, "") and hasattr(adapter, "default_root"):
        root = adapter.default_root()
    if root in (None, ""):
        raise UsageError(f"prepare needs root=PATH: the folder holding {dataset!r} as its authors ship it")
    if raw.get("out") in (None, ""):
        raise UsageError("prepare needs out=PATH: the folder to write images/, parsing/ and manifest.jsonl to")
    options, data_opts = split_options(raw, getattr(adapter, "prepare_defaults", None))
    items = adapter.index(str(root), **data_opts)
    if not items:
        raise FsfmBenchError(f"dataset {dataset!r} under {root} gave no media items; check it with "
                             f"`fsfm-bench data verify dataset={dataset} root={root}`")
    summary = prepare(items, root, raw["out"], options, dataset=dataset)
    _print_summary(summary)
    return 0


def _print_summary(s: dict[str, Any]) -> None:
    items, frames = s["items"], s["frames"]
    kinds = items.get("kinds") or {}
    stills = not (kinds.get("video") or kinds.get("frames"))     # still images only: no "videos", no frames
    unit = "images" if stills else "frames"
    print(f"prepared {s['dataset']} -> {s['out']}  ({s['elapsed_s']:.1f} s, reader={s['video_reader']}, "
          f"parser={s['parser']}, detector={s['options']['detector']})")
    what = ", ".join(f"{n} {_KIND_WORDS[k][n == 1]}" for k, n in kinds.items() if k in _KIND_WORDS) or "media"
    print(f"  media: {items['total']} total ({what}), {items['prepared']} done ({items['skipped_already_done']} "
          f"from an earlier run), {items['failed_to_decode']} undecodable, {items['errors_to_retry']} errors "
          "(rerun to retry)")
    fpv = s.get("frames_per_video") or {}
    if fpv and not stills:
        print(f"  frames per video: {fpv['real']} per real, {fpv['fake']} per fake (0 = all)")
    print(f"  crops: {frames['rows']} rows = {frames['real']} real + {frames['fake']} fake; "
          f"{frames['no_face']} {unit} without a face, {frames['decode_failed']} {unit} not decoded, "
          f"{frames['forgery_failed']} forgeries failed")
    if s["forgeries"]:
        print("  forgeries: " + ", ".join(f"{k} {v}" for k, v in s["forgeries"].items()))
    for split, c in sorted(s["counts"].items()):
        if stills:         # one "video" per image: say images, and do not repeat the count as videos
            c = {"images": c.get("frames"), **{k: v for k, v in c.items() if k not in ("frames", "videos")}}
        print(f"  {split:<5} {json.dumps(c)}")
    print(f"  manifest.jsonl sha256 {s['manifest_sha256'][:16]}…  failures.jsonl: {s['failures']} records")


#: how the summary names each media kind, (plural, singular)
_KIND_WORDS = {"image": ("images", "image"), "video": ("videos", "video"), "frames": ("frame folders", "frame folder")}
