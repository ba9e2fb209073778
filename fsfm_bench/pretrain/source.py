"""Where pretraining data comes from: ``data=`` as a manifest file, a prepared folder or a prepared
dataset's name, resolved to one absolute manifest path (so every spelling is one config hash)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import FsfmBenchError, UsageError


def prepared_variants(name: str, cache: str | os.PathLike | None = None) -> list[Path]:
    """The complete prepared folders of dataset ``name`` in the cache, ``<cache>/prepared/<name>-<hash>``
    (what ``fsfm-bench run`` prepares; see ``fsfm_bench.protocols.data``), sorted by path."""
    folder = _prepared_cache(cache)
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(name)}-[0-9a-f]{{12}}")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name)
                  and (p / "manifest.jsonl").is_file() and (p / "summary.json").is_file())


def _prepared_cache(cache: str | os.PathLike | None) -> Path:
    from ..paths import prepared_cache

    return prepared_cache({"data": {"cache_dir": str(cache) if cache else None}})


def _variant_line(folder: Path) -> str:
    """``data=FOLDER (N frames, F per video)`` from the folder's summary.json, for an error message."""
    import json

    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        rows = (summary.get("frames") or {}).get("rows")
        per_video = summary.get("frames_per_video")
        detail = f" ({rows} frames, frames per video {per_video})"
    except (OSError, ValueError, AttributeError):
        detail = ""
    return f"data={folder}{detail}"


def resolve_manifest(source: str, prepared_root: str | None = None,
                     cache: str | os.PathLike | None = None) -> Path:
    """A manifest file, a prepared folder holding manifest.jsonl, or a prepared dataset's name,
    resolved to one absolute manifest path (so ``data=DIR`` and ``data=DIR/manifest.jsonl`` are one
    config). A name is looked up in ``<prepared_root>/<name>/``, the user file's ``prepared:``
    entry, then the cache's ``prepared/<name>-<hash>/`` folders (the one there, or an error listing
    them when several are)."""
    if not source:
        raise UsageError("no pretraining data: pass data=PATH/manifest.jsonl or a prepared dataset folder")
    p = Path(source).expanduser()
    if p.is_file():
        return p.resolve()
    if p.is_dir() and (p / "manifest.jsonl").is_file():
        return (p / "manifest.jsonl").resolve()
    looked = [f"{p} (a manifest file)", f"{p}/manifest.jsonl"]
    is_name = not p.is_absolute() and "/" not in source and os.sep not in source and not source.endswith(".jsonl")
    if is_name:
        from ..protocols.data import prepared_override, user_file

        root = Path(prepared_root or "data/prepared").expanduser()
        candidate = root / source / "manifest.jsonl"
        if candidate.is_file():
            return candidate.resolve()
        looked.append(str(candidate))
        user = prepared_override(source, {})
        if user:
            candidate = Path(user).expanduser() / "manifest.jsonl"
            if candidate.is_file():
                return candidate.resolve()
            looked.append(f"{candidate} (prepared.{source} in {user_file()})")
        cache_folder = _prepared_cache(cache)
        variants = prepared_variants(source, cache)
        if len(variants) == 1:
            return (variants[0] / "manifest.jsonl").resolve()
        if len(variants) > 1:
            raise UsageError(
                f"pretraining data {source!r}: {len(variants)} prepared variants in {cache_folder}; pass one of: "
                + "; ".join(_variant_line(v) for v in variants))
        looked.append(f"{cache_folder}/{source}-<hash>/manifest.jsonl (what `fsfm-bench run` prepares)")
    example = (f"`fsfm-bench prepare dataset={source} out=PATH`" if is_name
               else f"`fsfm-bench prepare dataset=NAME out={source}`")
    raise FsfmBenchError(
        f"pretraining data {source!r} not found; looked for: {'; '.join(looked)}. "
        f"Prepare it first, e.g. {example}, then pass data=PATH")
