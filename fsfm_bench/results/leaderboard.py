"""Leaderboards built from result files: ``build(results_dir, out_dir)``, what ``fsfm-bench leaderboard build`` runs.

The build never crashes on a bad result file: each invalid file, or one whose scores do not
reproduce its numbers, is reported (path and first problem) and skipped. Per protocol it writes
``<out>/<id>_v<version>/leaderboard.{md,csv,tex,html,json}`` and ``figures/*.png``, plus
``<out>/index.md``. Everything is first built into a temporary folder inside ``out`` and then moved
into place file by file with ``os.replace``, so a killed build leaves every previous table whole.

The steps live in modules with one job each, and this module only runs them in order:

- :mod:`.merge`: collect and verify result files, group runs, merge seeds, pair reported rows;
- :mod:`.tables`: the display tables and their Markdown, LaTeX, CSV and JSON renderings;
- :mod:`.figures`: bar charts, heatmaps and ROC curves;
- :mod:`.pages`: one protocol's page files and the index.

Conventions (percent, mean ± population std over seeds, reported rows and Δ beside reproduced ones,
``target_oracle`` flagged) are described where they are made, in :mod:`.merge` and :mod:`.tables`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError
from ..io import atomic_write_text
from .figures import row_names
from .merge import (
    Loaded,
    collect,
    collect_verified,
    data_fingerprint,
    join_reported,
    merge_seeds,
    protocol_ref,
    results_root,
    superseded_paths,
)
from .pages import index_page, protocol_dir, write_protocol
from .reported import load_reported, reported_cells, standalone_refs
from .result import readable
from .tables import display_tables, wide_csv

__all__ = ["BuildReport", "build", "reported_documents", "Loaded", "collect", "merge_seeds", "join_reported",
           "data_fingerprint", "display_tables", "wide_csv", "row_names", "write_protocol"]


@dataclass
class BuildReport:
    """What a build produced: protocols written, results used and files skipped (with why)."""

    out_dir: Path
    protocols: dict[str, Path] = field(default_factory=dict)
    used: list[Path] = field(default_factory=list)
    superseded: list[Path] = field(default_factory=list)      # replaced by a same-recipe, same-seed rerun
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def reported_documents(reported_dir: str | os.PathLike | None, enabled: bool = True) -> dict[str, dict[str, Any]]:
    """Protocol ref -> its reported-numbers document (:mod:`.reported`); none when ``enabled`` is false.

    The one place where a build loads paper-reported numbers, so that another source of them
    (a protocol's own ``reported:`` file) is added here."""
    return load_reported(reported_dir) if enabled else {}


def _clean_stale_builds(out: Path) -> None:
    """Remove temporary build folders left by killed builds (their process no longer runs)."""
    for tmp in out.glob(".build-*"):
        try:
            pid = int(tmp.name.split("-")[1])
            os.kill(pid, 0)
            continue                      # still running: leave it alone
        except (ValueError, IndexError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: Path, out: Path) -> None:
    """Move every built file into ``out`` with os.replace: figures first, Markdown last."""
    files = [p for p in tmp.rglob("*") if p.is_file()]
    files.sort(key=lambda p: (p.suffix == ".md", p.suffix != ".png", str(p)))
    for src in files:
        dst = out / src.relative_to(tmp)
        dst.parent.mkdir(parents=True, exist_ok=True)
        readable(src)
        os.replace(src, dst)
    for figdir in tmp.glob("*/figures"):           # drop figures the new build no longer makes
        live = out / figdir.relative_to(tmp)
        built = {p.name for p in files if p.parent == figdir}
        for old in live.glob("*.png"):
            if old.name not in built:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()


def build(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *, reported: bool = True,
          figures: bool = True, reported_dir: str | os.PathLike | None = None, verify: bool = True) -> BuildReport:
    """Build every protocol's leaderboard; invalid result files, and (``verify``) results their scores
    do not reproduce (:mod:`.verify`), are skipped and reported. Builds into one ``out_dir`` run one
    at a time, each from the results present when it starts (a slow build never publishes last)."""
    from ..locks import held

    out = Path(out_dir)
    results_root(results_dir)                       # a wrong results= fails before out= is created
    if out.exists() and not out.is_dir():
        raise FsfmBenchError(f"leaderboard folder out={out} is a file, not a folder; pass out=DIR")
    out.mkdir(parents=True, exist_ok=True)
    with held(out / ".build.lock", f"leaderboard build into {out}"):
        return _build(results_dir, out, reported=reported, figures=figures, reported_dir=reported_dir, verify=verify)


def _build(results_dir, out: Path, *, reported: bool, figures: bool, reported_dir, verify: bool) -> BuildReport:
    loaded, skipped = collect_verified(results_dir, verify=verify)
    docs = reported_documents(reported_dir, reported)
    merged = merge_seeds(loaded)
    gone = set(superseded_paths(merged))
    report = BuildReport(out, used=[it.path for it in loaded if str(it.path) not in gone], skipped=skipped,
                         superseded=[it.path for it in loaded if str(it.path) in gone])
    refs = list(dict.fromkeys(standalone_refs(docs) + (list(merged["protocol"]) if not merged.empty else [])))
    _clean_stale_builds(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=out))
    try:
        for ref in refs:
            doc = docs.get(ref)
            repro = merged[merged["protocol"] == ref] if not merged.empty else merged
            targets = list(doc["targets"]) if doc else []
            for it in loaded:
                if protocol_ref(it.result) == ref:
                    targets += [t for t in it.result["protocol"]["targets"] if t not in targets]
            rows = join_reported(repro, reported_cells(doc) if doc else [])
            if rows.empty:
                continue
            n_superseded = len(superseded_paths(repro))
            n_results = sum(1 for it in loaded if protocol_ref(it.result) == ref) - n_superseded
            write_protocol(ref, rows, doc, targets, n_results, skipped, tmp / protocol_dir(ref),
                           figures, report.notes, n_superseded,
                           loaded=[it for it in loaded if protocol_ref(it.result) == ref],
                           published_at=out / protocol_dir(ref))
            report.protocols[ref] = out / protocol_dir(ref)
        atomic_write_text(tmp / "index.md", index_page(list(report.protocols), docs, skipped))
        _publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report
