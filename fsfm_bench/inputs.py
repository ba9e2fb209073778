"""Cheap checks of the paths a command was given, made before anything heavy loads.

A typo in a file name should cost a second, not the minute it takes to import torch and build a
model: ``predict`` runs these first, and the checkpoint reader uses the same check so that both
report a missing checkpoint in the same words.
"""
from __future__ import annotations

from pathlib import Path

from .errors import FsfmBenchError, UsageError

#: where `fsfm-bench run` leaves the fine-tuned checkpoints a user can pass on
POLICY_FILES = "runs/<protocol>/<backbone>/<key>/seed<k>/checkpoints/{source_val,last,target_oracle}.pth"


def checkpoint_file(path: str | Path) -> Path:
    """The checkpoint path, or an error saying it is missing or a folder (and which files to pass)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise FsfmBenchError(f"checkpoint {path} is a directory; pass a fine-tuned checkpoint file, {POLICY_FILES}")
    if not path.is_file():
        raise FsfmBenchError(f"checkpoint {path} does not exist; pass a fine-tuned checkpoint file, {POLICY_FILES}")
    return path


def media_files(paths: list[str]) -> None:
    """Every path must be an existing file: one usage error names all that are not (nothing is scored)."""
    bad = [f"{p} ({'a directory' if Path(p).expanduser().is_dir() else 'no such file'})"
           for p in paths if not Path(p).expanduser().is_file()]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise UsageError(f"{len(bad)} of {len(paths)} input(s) cannot be scored, nothing was loaded: {shown}; "
                         "pass image or video files")
