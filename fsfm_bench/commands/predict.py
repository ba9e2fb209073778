"""``fsfm-bench predict checkpoint=PATH [frames=8] [detector=dlib_hog] FILE...``

Scores images or videos with a fine-tuned checkpoint: the face is detected and cropped as in
``fsfm-bench prepare`` (largest face, 1.3x square box), each face crop scored, and a video's score
is the mean over its sampled frames. Prints one line per file: ``P(fake)<TAB>file`` (or a reason
instead of the score when no face was found); exit status 1 if any file could not be scored.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="+", metavar="key=value|FILE",
                        help="checkpoint=PATH (required), frames=N, detector=NAME, device=cpu|cuda, then files")


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
    from ..protocols.predict import predict_files

    failed = 0
    for path, score, reason in predict_files(str(checkpoint), files, **options):
        if score is None:
            failed += 1
            print(f"-\t{path}\t{reason}")
        else:
            print(f"{score:.6f}\t{path}")
    return 1 if failed else 0


def _exists(word: str) -> bool:
    from pathlib import Path

    return Path(word).exists()
