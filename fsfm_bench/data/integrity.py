"""Is a prepared folder still what ``prepare`` wrote? Checked each time a run loads one.

``prepare`` records the manifest's sha256 and row count in ``summary.json``. A manifest edited
afterwards (rows removed: fewer frames scored with no warning; labels flipped: other metrics) or
whose images were deleted would otherwise be used as it is. :func:`manifest_problem` says what is
wrong; :func:`forget_damaged_items` drops the completion records of the items whose files are
gone, so that preparing the folder again redoes exactly those (``prepare`` rewrites the manifest
and summary from its completion records).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from .manifest import manifest_hash, read_manifest

#: manifest columns naming files inside the prepared folder
FILE_COLUMNS = ("path", "parsing", "mask")


def _summary(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _missing(folder: Path, rows: list[dict[str, Any]]) -> list[str]:
    return [r[c] for r in rows for c in FILE_COLUMNS if r.get(c) and not (folder / r[c]).is_file()]


def manifest_problem(folder: str | os.PathLike) -> str | None:
    """What differs between ``folder``'s manifest and what ``prepare`` recorded (sha256, row count,
    files present); None when they agree, or when the folder has no ``summary.json`` to check against."""
    folder = Path(folder)
    summary = _summary(folder)
    if summary is None or "manifest_sha256" not in summary:
        return None
    rows = read_manifest(folder / "manifest.jsonl")
    recorded_rows = (summary.get("frames") or {}).get("rows")
    if manifest_hash(rows) != summary["manifest_sha256"] or (recorded_rows is not None and recorded_rows != len(rows)):
        return (f"{folder / 'manifest.jsonl'} has {len(rows)} rows and another sha256 than the {recorded_rows} "
                "rows summary.json recorded (edited after preparing)")
    missing = _missing(folder, rows)
    if missing:
        return f"{len(missing)} files its manifest names are gone (first: {folder / missing[0]})"
    return None


def forget_damaged_items(folder: str | os.PathLike) -> int:
    """Delete the completion records (``.state/*/<key>.json``) whose rows name missing files, and the
    summary, so that the next ``prepare`` of the folder redoes those items; returns how many."""
    from .prepare import STATE_DIR

    folder = Path(folder)
    dropped = 0
    for record_file in sorted((folder / STATE_DIR).glob("*/*.json")):
        if record_file.name == "options.json":
            continue
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and _missing(folder, record.get("rows") or []):
            record_file.unlink()
            dropped += 1
    with contextlib.suppress(FileNotFoundError):
        (folder / "summary.json").unlink()
    return dropped

