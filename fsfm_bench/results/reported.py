"""Paper-reported numbers (registry/reported/*.yaml) as data, each value with its source.

The leaderboard shows them as separate rows marked "reported", never mixed with reproduced runs,
with the difference reproduced - reported beside them. Values are percent, as printed.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import FsfmBenchError
from ..schemas import validate


def _files(directory: str | os.PathLike | None) -> list[tuple[str, str]]:
    if directory is not None:
        return [(str(p), p.read_text(encoding="utf-8")) for p in sorted(Path(directory).glob("*.yaml"))]
    try:
        root = resources.files("fsfm_bench_registry").joinpath("reported")
    except ModuleNotFoundError:
        return []
    if not root.is_dir():
        return []
    return [(f"registry/reported/{p.name}", p.read_text(encoding="utf-8"))
            for p in sorted(root.iterdir(), key=lambda p: p.name) if p.name.endswith(".yaml")]


def load_reported(directory: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """protocol ref (``cdfd@1``) -> validated reported document; a broken file is an error."""
    from ..metrics import parse_metric_name

    out: dict[str, dict[str, Any]] = {}
    for where, text in _files(directory):
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FsfmBenchError(f"{where} is not valid YAML ({exc})") from exc
        validate(doc, "reported", where)
        for i, row in enumerate(doc["rows"]):
            if row["source"] not in doc["sources"]:
                raise FsfmBenchError(f"{where}: rows/{i} cites unknown source {row['source']!r}; "
                                     f"declare it under sources ({', '.join(doc['sources'])})")
            parse_metric_name(row["metric"])
        for ref in [doc["protocol"], *doc.get("paired_with", [])]:
            if ref in out:
                raise FsfmBenchError(f"{where}: protocol {ref} has reported numbers in two files "
                                     f"({out[ref]['file']} and {where})")
            # one document per protocol version that shows these numbers; ``made_with`` says which
            # version makes them the same way, ``file`` where they live
            out[ref] = {**doc, "protocol": ref, "made_with": doc["protocol"], "file": where}
    return out


def pairing_text(ref: str, doc: dict[str, Any] | None) -> str:
    """How a leaderboard says which reported numbers its protocol version ``ref`` is paired with."""
    if not doc:
        return "no reported numbers are paired with this version."
    if doc.get("made_with", ref) == ref:
        return f"reported rows from `{doc.get('file', '?')}`, made the same way as this version."
    return (f"reported rows from `{doc.get('file', '?')}`, made with {doc['made_with']}, shown for comparison "
            "only" + (f" ({doc['pairing_note']})" if doc.get("pairing_note") else "") + ".")


def reported_cells(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per (row, target): the long form the leaderboard joins on."""
    cells = []
    for row in doc["rows"]:
        src = doc["sources"][row["source"]]
        label = row["backbone"] + (f"/{row['variant']}" if row.get("variant") else "") \
            if row["backbone"] else f"({row['paper_name']})"
        for target, raw in row["values"].items():
            if raw is None:
                continue
            value = raw["value"] if isinstance(raw, dict) else raw
            cells.append({
                "protocol": doc["protocol"], "kind": "reported", "backbone": label,
                "paper_name": row["paper_name"], "pretrain": row.get("pretrain"),
                "granularity": row["granularity"], "metric": row["metric"], "target": target,
                "value": float(value),
                "std": float(raw["std"]) if isinstance(raw, dict) and "std" in raw else None,
                "n_seeds": int(raw["n"]) if isinstance(raw, dict) and "n" in raw else None,
                "selection_policy": row["selection_policy"],
                "threshold_source": row.get("threshold_source"),
                "selection_note": row.get("selection_note"),
                "source": row["source"], "source_kind": src["kind"], "citation": src["citation"],
                "priority": src["priority"], "printed_avg": row.get("printed_avg")})
    return cells
