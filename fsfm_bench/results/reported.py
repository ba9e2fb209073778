"""Paper-reported numbers (registry/reported/*.yaml) as data, each value with its source.

The leaderboard shows them as separate rows marked "reported", never mixed with reproduced runs,
with the difference reproduced - reported beside them. Values are percent, as printed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import FsfmBenchError
from ..schemas import validate


def read_reported(text: str, where: str) -> dict[str, Any]:
    """One validated reported document (``where`` names it in errors): schema, sources, metrics."""
    from ..metrics import parse_metric_name

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
    return doc


def _covers(doc: dict[str, Any]) -> list[str]:
    """The protocol versions a document's numbers are shown for: the one that makes them, then the paired ones."""
    return [doc["protocol"], *doc.get("paired_with", [])]


def _entry(doc: dict[str, Any], ref: str, where: str, builtin: bool) -> dict[str, Any]:
    # one document per protocol version that shows these numbers; ``made_with`` says which version
    # makes them the same way, ``file`` where they live, ``builtin`` whether the core ships the protocol
    return {**doc, "protocol": ref, "made_with": doc["protocol"], "file": where, "builtin": builtin}


def load_reported(directory: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """protocol ref (``cdfd@1``) -> validated reported document; a broken file is an error.

    Without ``directory``: the file each registered protocol version names in its ``reported:``
    field (beside its YAML, else the core's), shown for that version when the file's ``protocol``
    or ``paired_with`` lists it. With ``directory``: every ``*.yaml`` there, for the versions each lists.
    """
    if directory is None:
        return _from_protocols()
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(Path(directory).glob("*.yaml")):
        where = str(p)
        doc = read_reported(p.read_text(encoding="utf-8"), where)
        for ref in _covers(doc):
            if ref in out:
                raise FsfmBenchError(f"{where}: protocol {ref} has reported numbers in two files "
                                     f"({out[ref]['file']} and {where})")
            out[ref] = _entry(doc, ref, where, True)
    return out


def _from_protocols() -> dict[str, dict[str, Any]]:
    from ..plugins import entries

    definitions: dict[str, Any] = {}
    for entry in entries("protocols"):
        if callable(getattr(entry.obj, "reported_file", None)):
            definitions.setdefault(entry.obj.ref, entry)
    docs: dict[Path, dict[str, Any]] = {}
    found = []
    for ref, entry in definitions.items():
        located = entry.obj.reported_file()
        if located is None:
            continue
        path, where = located
        if path not in docs:
            docs[path] = read_reported(path.read_text(encoding="utf-8"), where)
        covers = _covers(docs[path])
        if ref not in covers:
            if entry.obj.id not in {c.partition("@")[0] for c in covers}:
                raise FsfmBenchError(f"protocol {ref} names {where} for its reported numbers, but that file holds "
                                     f"numbers for {', '.join(covers)}; name its own file, or list {ref} under "
                                     "paired_with there")
            continue         # made by another version of this protocol, which does not pair them with this one
        found.append(((where, covers.index(ref)), ref, _entry(docs[path], ref, where, entry.plugin.builtin)))
    return {ref: doc for _key, ref, doc in sorted(found, key=lambda t: t[0])}


def standalone_refs(docs: dict[str, dict[str, Any]]) -> list[str]:
    """The versions that get a board of reported rows even without results: the built-in protocols'
    (a third-party protocol's reported rows appear beside its results), so the committed boards do
    not depend on which plugins are installed."""
    return [ref for ref, doc in docs.items() if doc.get("builtin", True)]


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
