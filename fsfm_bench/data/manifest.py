"""Frame-level manifests: JSONL, one row per face crop, validated by ``schemas/manifest_row.json``.

A manifest lives in the folder it describes (``<out>/manifest.jsonl``); every path in it is relative
to that folder, so a prepared dataset can be moved. Its hash (over the canonical JSON of the rows)
is what results cite as the data's identity.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError
from ..io import atomic_open, canonical_json
from ..schemas import validator

REQUIRED = ("path", "label", "video_id", "source", "split")


def validate_row(row: dict[str, Any], where: str = "") -> None:
    errors = sorted(validator("manifest_row").iter_errors(row), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        loc = "/".join(map(str, err.path)) or "(row)"
        raise FsfmBenchError(f"invalid manifest row {where}: {loc}: {err.message}; write manifests with "
                             "`fsfm-bench prepare` (columns: fsfm_bench/schemas/manifest_row.json)")


def write_manifest(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> str:
    """Validate and atomically write rows; return the manifest hash."""
    digest = hashlib.sha256()
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            validate_row(row, f"#{i}")
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            digest.update(canonical_json(row).encode("utf-8") + b"\n")
    return digest.hexdigest()


def read_manifest(path: str | os.PathLike, validate: bool = True) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise FsfmBenchError(f"manifest {path} does not exist; build it with `fsfm-bench prepare`")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FsfmBenchError(f"{path}:{lineno}: not valid JSON ({exc.msg}); "
                                     "the manifest is corrupt, rebuild it with `fsfm-bench prepare`") from exc
            if validate:
                validate_row(row, f"{path}:{lineno}")
            rows.append(row)
    return rows


def manifest_hash(rows: Iterable[dict[str, Any]]) -> str:
    """sha256 over the canonical JSON of each row, in order (what write_manifest returns)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(canonical_json(row).encode("utf-8") + b"\n")
    return digest.hexdigest()


def counts(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per split: frames, videos, real and fake frames (what results and cards record)."""
    out: dict[str, Counter] = {}
    videos: dict[str, set] = {}
    for row in rows:
        c = out.setdefault(row["split"], Counter())
        c["frames"] += 1
        c["fake" if row["label"] == 1 else "real"] += 1
        videos.setdefault(row["split"], set()).add(row["video_id"])
    return {split: {**dict(c), "videos": len(videos[split])} for split, c in out.items()}
