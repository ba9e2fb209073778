"""``fsfm-bench predict checkpoint=PATH [frames=8] [detector=dlib_hog] FILE...``

Scores images or videos with a fine-tuned checkpoint: the face is detected and cropped as in
``fsfm-bench prepare`` (largest face, 1.3x square box), each face crop scored, and a video's score
is the mean over its sampled frames. Prints one line per file, ``P(fake)=0.5400  file`` (or
``P(fake)=n/a     file: reason`` when no face was found); ``--csv`` (``file,p_fake,error`` with a header)
and ``--json`` (a list of ``{"file", "p_fake", "error"}``) are for machines. Missing files, the
checkpoint path and the detector name are checked before the model loads. Exit status 1 if any file
could not be scored.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="+", metavar="key=value|FILE",
                        help="checkpoint=PATH (required), frames=N, detector=NAME, device=cpu|cuda, then files")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV with a header: file,p_fake,error")
    form.add_argument("--json", action="store_true", help="a JSON list of {file, p_fake, error}")


def main(args: argparse.Namespace) -> int:
    from ..config import int_option, parse_overrides
    from ..errors import UsageError

    settings = [w for w in args.words if "=" in w and not _exists(w)]
    files = [w for w in args.words if w not in settings]
    options = parse_overrides(settings)
    checkpoint = options.pop("checkpoint", None)
    if not checkpoint:
        raise UsageError("fsfm-bench predict needs checkpoint=PATH (a fine-tuned checkpoint from a run)")
    if not files:
        raise UsageError("fsfm-bench predict needs at least one image or video file")
    unknown = set(options) - {"frames", "detector", "device", "detect_max_side"}
    if unknown:
        raise UsageError(f"unknown option(s) {sorted(unknown)}; use frames=, detector=, device=, detect_max_side=")
    options["frames"] = int_option(options, "frames", 8, minimum=1)
    if "detect_max_side" in options:
        options["detect_max_side"] = int_option(options, "detect_max_side", 1920, minimum=1, allow_none=True)
    from ..inputs import checkpoint_file, media_files
    from ..plugins import get_entry

    media_files(files)                                 # all before torch and the model load
    checkpoint_file(checkpoint)
    get_entry("detectors", str(options.get("detector", "dlib_hog")))
    from ..protocols.predict import predict_files

    rows = []
    writer = _csv_writer() if args.csv else None
    for path, score, reason in predict_files(str(checkpoint), files, **options):
        rows.append({"file": path, "p_fake": score, "error": reason or None})
        if writer is not None:
            writer.writerow([path, "" if score is None else f"{score:.6f}", reason or ""])
        elif not args.json:
            print(f"P(fake)=n/a     {path}: {reason}" if score is None else f"P(fake)={score:.4f}  {path}", flush=True)
    if args.json:
        import json

        print(json.dumps(rows, indent=2))
    return 1 if any(row["p_fake"] is None for row in rows) else 0


def _csv_writer():
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "p_fake", "error"])
    return writer


def _exists(word: str) -> bool:
    from pathlib import Path

    return Path(word).exists()
