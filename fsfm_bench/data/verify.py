"""``fsfm-bench data verify``: check a local copy of a dataset against its card.

The adapter scans the copy (its layout files say what should exist); this module adds the card's
required paths and expected counts per split, and turns everything into one report that says
exactly what is missing or extra. A copy fails when something is missing, a layout file is
inconsistent, or (with default options) the counts differ from the card; extra files are reported
and fail only with ``strict=true``.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError


@dataclass
class VerifyReport:
    dataset: str
    root: str
    options: dict[str, Any]
    ok: bool = False
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    expected_counts: dict[str, dict[str, int | None]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, limit: int = 20) -> str:
        """A human-readable report; lists are cut at ``limit`` entries with a count of the rest."""
        lines = [f"dataset {self.dataset} at {self.root}: {'OK' if self.ok else 'FAILED'}"]
        if self.options:
            lines.append("options: " + ", ".join(f"{k}={v}" for k, v in sorted(self.options.items())))
        splits = sorted(set(self.counts) | set(self.expected_counts or {}))
        for split in splits:
            have = self.counts.get(split, {"real": 0, "fake": 0})
            want = (self.expected_counts or {}).get(split)
            exp = f"   (card: {want.get('real')} real, {want.get('fake')} fake)" if want else ""
            lines.append(f"  {split:<5}  {have.get('real', 0)} real, {have.get('fake', 0)} fake{exp}")
        for title, values in (("problems", self.problems), ("missing", self.missing), ("extra", self.extra),
                              ("notes", self.notes)):
            if not values:
                continue
            lines.append(f"{title} ({len(values)}):")
            lines.extend(f"  {v}" for v in values[:limit])
            if len(values) > limit:
                lines.append(f"  ... and {len(values) - limit} more (out=FILE writes them all as JSON)")
        return "\n".join(lines)


def count_items(items: list[Any]) -> dict[str, dict[str, int]]:
    """Per split: real and fake items."""
    out: dict[str, Counter] = {}
    for item in items:
        out.setdefault(item.split, Counter())["fake" if item.label else "real"] += 1
    return {s: {"real": c["real"], "fake": c["fake"]} for s, c in sorted(out.items())}


def _required_missing(root: Path, patterns: list[str]) -> list[str]:
    """Card patterns with no match; ``a | b`` means either, and globs are allowed."""
    missing = []
    for pattern in patterns:
        alternatives = [p.strip() for p in pattern.split("|")]
        if not any(any(root.glob(alt)) if any(ch in alt for ch in "*?[") else (root / alt).exists()
                   for alt in alternatives):
            missing.append(pattern)
    return missing


def verify_adapter(adapter: Any, root: str | os.PathLike, strict: bool = False, **options: Any) -> VerifyReport:
    """Scan ``root`` with ``adapter`` and compare with its card (see the module docstring)."""
    card = adapter.card
    opts = adapter.resolve_options(options)
    report = VerifyReport(dataset=adapter.name, root=str(root), options={k: v for k, v in options.items()})
    try:
        scan = adapter.scan(root, **options)
    except FsfmBenchError as exc:
        report.problems.append(str(exc))
        return report
    report.missing = list(scan.missing)
    report.extra = list(scan.extra)
    report.problems = list(scan.problems)
    report.notes = list(scan.notes)
    report.counts = count_items(scan.items)
    default = adapter.options_are_default(opts)
    if default:
        report.missing = [f"{p} (required by the card)" for p in
                          _required_missing(Path(root), card["layout"].get("required", []))] + report.missing
    expected = card.get("expected_counts")
    if expected and default:
        report.expected_counts = expected
        for split in sorted(set(expected) | set(report.counts)):
            want = expected.get(split)
            have = report.counts.get(split, {"real": 0, "fake": 0})
            if want is None:
                report.problems.append(f"split {split}: {have['real']} real and {have['fake']} fake items, but the "
                                       f"card expects no {split} split")
                continue
            for key in ("real", "fake"):
                if want.get(key) is not None and want[key] != have[key]:
                    report.problems.append(f"split {split}: {have[key]} {key} items, the card expects {want[key]}")
    elif expected:
        report.notes.append("counts not compared with the card: non-default options "
                            + ", ".join(f"{k}={v}" for k, v in sorted(options.items())))
    elif not expected:
        report.notes.append("the authors publish no per-split counts; counts not compared")
    if card.get("counts_note") and report.expected_counts:
        report.notes.append("card counts: " + card["counts_note"])
    report.ok = not report.missing and not report.problems and not (strict and report.extra)
    return report


def verify(dataset: str, root: str | os.PathLike, strict: bool = False, **options: Any) -> VerifyReport:
    """Verify ``root`` against the card of the registered dataset adapter ``dataset``."""
    from ..plugins import get

    adapter = get("datasets", dataset)()
    return adapter.verify(root, strict=strict, **options)
