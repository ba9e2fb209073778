"""The leaderboard's data: result files collected and verified, run groups, seeds merged, reported rows paired.

A row of a leaderboard merges the runs that differ only in seed (same protocol, backbone and
variant, checkpoint, recipe, selection policy, threshold source, preprocessing, data and label):
the value is the mean over seeds in percent, with the population std (as FLIP/FSFM's
performance.csv) and n; the bootstrap interval is the mean of the per-seed bounds. The recipe is
the resolved config without run-only keys (:data:`RUN_ONLY_KEYS`): only a same-recipe, same-seed
rerun supersedes an earlier result; another recipe is its own row, labelled
``config <hash8>: <keys that differ from the most used recipe>``. Paper-reported rows are joined
beside reproduced ones (never mixed into them) by :func:`join_reported`, which also gives each
reproduced row with a reported counterpart its Δ (reproduced - reported).

Everything here works on plain result dicts and pandas frames, without writing a file, so that
the tables (:mod:`.tables`), figures (:mod:`.figures`) and pages (:mod:`.pages`) can be built and
tested from a hand-made frame.
"""
from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import FsfmBenchError
from ..io import sha256_json
from ..metrics import find_metric_spec
from .result import RESULT_GLOB, read_result, scores_path

#: the preprocessing keys every row shows, in this order (others follow as the results name them)
PREPROCESSING = ("detector", "crop", "img_size", "interpolation", "normalize", "frames_per_video")


@dataclass
class Loaded:
    """One valid result file: where it lies and its parsed content."""

    path: Path
    result: dict[str, Any]


# --- collect and verify ---------------------------------------------------------------------------
def collect(results_dir: str | os.PathLike) -> tuple[list[Loaded], list[tuple[Path, str]]]:
    """Every ``result_*.json`` under ``results_dir`` (recursively): valid ones and skipped ones."""
    root = results_root(results_dir)
    loaded, skipped = [], []
    for path in sorted(root.rglob(RESULT_GLOB)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            loaded.append(Loaded(path, read_result(path)))
        except FsfmBenchError as exc:
            skipped.append((path, str(exc)))
    return loaded, skipped


def collect_verified(results_dir: str | os.PathLike, *, verify: bool = True
                     ) -> tuple[list[Loaded], list[tuple[Path, str]]]:
    """:func:`collect` after removing orphaned score files; with ``verify``, a result whose scores do
    not reproduce its numbers (:mod:`.verify`) is skipped too, with the first problem as why."""
    from .result import remove_orphans
    from .verify import problem

    remove_orphans(results_dir)
    loaded, skipped = collect(results_dir)
    if verify:
        failed = [(it, problem(it.result, it.path)) for it in loaded]
        skipped += [(it.path, why) for it, why in failed if why]
        loaded = [it for it, why in failed if not why]
    return loaded, skipped


def results_root(results_dir: str | os.PathLike) -> Path:
    """``results_dir`` as a Path, or one clear error when it is not a folder."""
    root = Path(results_dir)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise FsfmBenchError(f"results folder {root} {what}; pass results=DIR (where "
                             "`fsfm-bench run` wrote its result_*.json files)")
    return root


def protocol_ref(result: dict[str, Any]) -> str:
    return f"{result['protocol']['id']}@{result['protocol']['version']}"


def backbone_label(backbone: dict[str, Any]) -> str:
    return backbone["name"] + (f"/{backbone['variant']}" if backbone.get("variant") else "")


def _pre_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return value


# --- run groups -----------------------------------------------------------------------------------
#: column names of the long frame that a preprocessing key must not overwrite
RESERVED = {"protocol", "kind", "backbone", "paper_name", "pretrain", "granularity", "metric", "target",
            "value", "std", "n_seeds", "seeds", "ci_low", "ci_high", "n", "higher_is_better",
            "selection_policy", "threshold_source", "selection_note", "source", "source_kind", "citation",
            "priority", "checkpoint_sha256", "config_hashes", "manifest_hash", "fsfm_bench_version", "label",
            "results", "scores", "preprocessing_keys", "reported", "diff", "oracle", "group_id",
            "recipe_hash", "config_note", "superseded"}
RENAME = {"mean": "norm_mean", "std": "norm_std", "size": "img_size"}


def _pre_name(key: str) -> str:
    key = RENAME.get(key, key)
    return f"pre_{key}" if key in RESERVED else key


def _preprocessing(res: dict[str, Any]) -> dict[str, Any]:
    """The result's preprocessing block, flat (lists joined), known columns first, safe names."""
    pre = {_pre_name(k): _pre_value(v) for k, v in (res.get("preprocessing") or {}).items()
           if not isinstance(v, dict)}
    return {**{k: pre.get(k) for k in PREPROCESSING}, **{k: v for k, v in pre.items() if k not in PREPROCESSING}}


def _run_label(res: dict[str, Any]) -> str:
    """The run's label, plus what a rescore changed (rescored results never merge with originals)."""
    label = res.get("label", "") or ""
    derived = res.get("derived_from")
    if derived:
        changes = ", ".join(f"{k}={v}" for k, v in sorted(derived["changes"].items()))
        label = (label + " " if label else "") + f"rescored: {changes or 'same conventions'}"
    return label


#: config keys that say where/how a run was executed, not what was trained: runs that differ only
#: here are the same recipe (their seeds merge; a same-seed one is a rerun that supersedes)
RUN_ONLY_KEYS = ("seed", "seeds", "*.seed", "*.seeds", "work_dir", "*.work_dir", "*num_workers", "device",
                 "*.device", "leaderboard.*", "cache_dir", "*.cache_dir", "*.chunk_batches", "*.log_interval",
                 "data.roots", "data.roots.*", "data.prepared", "data.prepared.*", "results_dir",
                 "*.results_dir", "resume", "launcher",
                 "perturb", "*.robustness_bootstrap",   # robustness extras: not the clean row's recipe
                 # prose that documents a protocol or a card, not a setting of the run
                 "*.title", "*.description", "*.paper_ref", "*.notes")
MAX_DIFF_KEYS = 3


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: obj}


def recipe(res: dict[str, Any]) -> dict[str, Any]:
    """The result's resolved config, flat (dotted keys), without the run-only keys."""
    return {k: v for k, v in _flatten(res.get("config") or {}).items()
            if not any(fnmatch.fnmatchcase(k, pat) for pat in RUN_ONLY_KEYS)}


def _diff_text(ref: dict[str, Any], other: dict[str, Any]) -> str:
    """``a.b=1, c=2, …``: the keys where ``other`` differs from ``ref`` (at most MAX_DIFF_KEYS)."""
    missing = object()
    keys = [k for k in sorted(set(ref) | set(other)) if ref.get(k, missing) != other.get(k, missing)]

    def show(v: Any) -> str:
        if v is missing:
            return "unset"
        return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))

    text = ", ".join(f"{k}={show(other.get(k, missing))}" for k in keys[:MAX_DIFF_KEYS])
    return text + (", …" if len(keys) > MAX_DIFF_KEYS else "")


class GroupKey(NamedTuple):
    """What makes results seeds of one leaderboard row (its ``group_id`` hashes these fields)."""

    protocol: str
    backbone: str
    selection_policy: str
    threshold_source: str
    checkpoint_sha256: str | None
    preprocessing: tuple
    label: str
    recipe: str             # hash of the config without run-only keys: tuned reruns stay apart
    data: str               # data_fingerprint: results on other data stay apart


def _group_key(res: dict[str, Any]) -> GroupKey:
    pre = _preprocessing(res)
    return GroupKey(protocol_ref(res), backbone_label(res["backbone"]), res["selection_policy"],
                    res["threshold_source"], res["checkpoint"].get("made_by") or res["checkpoint"].get("sha256"),
                    tuple(sorted((k, str(v)) for k, v in pre.items())), _run_label(res),
                    sha256_json(recipe(res)), data_fingerprint(res))


def data_fingerprint(res: dict[str, Any]) -> str:
    """The data a result used, as the manifest hashes of its splits: results on other data (another
    release, other frames prepared) are never seeds of one row."""
    return sha256_json(sorted((k, v.get("manifest_hash")) for k, v in (res.get("data") or {}).items()))[:8]


def _created(it: Loaded) -> tuple:
    return (it.result.get("created_at") or "", it.result["run_id"])


def _group_notes(groups: dict[GroupKey, list[Loaded]]) -> dict[GroupKey, str]:
    """What tells a group apart from the other groups of its protocol and backbone.

    ``config <hash8>[: differing keys]`` where there are several recipes: the reference is the
    recipe with the most results (ties: the one run first), other recipes list the keys where they
    differ from it. `` · data <fingerprint>`` where one recipe ran on several data."""
    by_pb: dict[tuple, dict[str, list[Loaded]]] = {}
    data_variants: dict[GroupKey, set[str]] = {}
    for key, items in groups.items():
        by_pb.setdefault((key.protocol, key.backbone), {}).setdefault(key.recipe, []).extend(items)
        data_variants.setdefault(key._replace(data=""), set()).add(key.data)
    notes = {}
    for key, items in groups.items():
        parts = []
        recipes = by_pb[(key.protocol, key.backbone)]
        if len(recipes) > 1:
            ref_hash = min(recipes, key=lambda h: (-len(recipes[h]), min(_created(it) for it in recipes[h])))
            first = min(items, key=lambda it: (it.result["seeds"]["seed"], _created(it)))
            note = f"config {first.result['config_hash'][:8]}"
            if key.recipe != ref_hash:
                diff = _diff_text(recipe(recipes[ref_hash][0].result), recipe(first.result))
                note += f": {diff}" if diff else ""
            parts.append(note)
        if len(data_variants[key._replace(data="")]) > 1:
            parts.append(f"data {key.data}")
        if parts:
            notes[key] = " · ".join(parts)
    return notes


def merge_seeds(loaded: list[Loaded]) -> pd.DataFrame:
    """Long frame, one row per (run group, target, granularity, metric): mean/std/n over seeds.

    A run group is one protocol, backbone, initial checkpoint, recipe (config without run-only
    keys), data (manifest hashes), selection, threshold source, preprocessing and label. Within a group a same-seed rerun
    supersedes the earlier result (listed in the ``superseded`` column); another recipe is another
    group, labelled ``config <hash8>: <differing keys>``."""
    groups: dict[GroupKey, list[Loaded]] = {}
    for item in loaded:
        groups.setdefault(_group_key(item.result), []).append(item)
    notes = _group_notes(groups)
    rows = []
    for key, items in groups.items():
        # a rerun of the same seed and recipe supersedes the earlier result instead of counting as a new seed
        latest: dict[Any, Loaded] = {}
        superseded: list[str] = []
        for it in sorted(items, key=_created):
            seed = it.result["seeds"]["seed"]
            if seed in latest:
                superseded.append(str(latest[seed].path))
            latest[seed] = it
        items = sorted(latest.values(), key=lambda it: (it.result["seeds"]["seed"], it.result["run_id"]))
        group_id = sha256_json([str(part) for part in key])[:8]
        first = items[0].result
        pre = _preprocessing(first)
        label = " · ".join(part for part in (key.label, notes.get(key)) if part) or None
        cells: dict[tuple, list[tuple[dict, dict]]] = {}
        for it in items:
            for target, by_gran in it.result["results"].items():
                for gran, by_metric in by_gran.items():
                    for metric, entry in by_metric.items():
                        cells.setdefault((target, gran, metric), []).append((entry, it.result))
        for (target, gran, metric), pairs in cells.items():
            values = np.array([e["value"] for e, _ in pairs], dtype=float) * 100.0
            cis = [e["ci"] for e, _ in pairs if e.get("ci")]
            data_key = next((k for k in first["data"] if k.split("/")[-1] == target), None)
            rows.append({
                "protocol": key.protocol, "kind": "reproduced", "backbone": key.backbone, "paper_name": None,
                "group_id": group_id,
                "pretrain": first["backbone"].get("pretrain"), "granularity": gran, "metric": metric,
                "target": target, "value": float(values.mean()),
                "std": float(values.std(ddof=0)) if len(values) > 1 else None,
                "n_seeds": len(values), "seeds": sorted(r["seeds"]["seed"] for _, r in pairs),
                "ci_low": float(np.mean([c["low"] for c in cis])) * 100 if cis else None,
                "ci_high": float(np.mean([c["high"] for c in cis])) * 100 if cis else None,
                "n": int(pairs[0][0]["n"]),
                "higher_is_better": bool(pairs[0][0]["higher_is_better"]),
                "selection_policy": key.selection_policy, "threshold_source": key.threshold_source,
                "selection_note": None,
                "source": None, "source_kind": None, "citation": None, "priority": None,
                "checkpoint_sha256": key.checkpoint_sha256,
                "config_hashes": sorted({r["config_hash"] for _, r in pairs}),
                "recipe_hash": key.recipe, "config_note": notes.get(key),
                "manifest_hash": first["data"][data_key]["manifest_hash"] if data_key else None,
                "fsfm_bench_version": first["environment"]["fsfm_bench_version"],
                "label": label,
                "results": [str(it.path) for it in items],
                "superseded": superseded,
                "scores": [str(scores_path(it.result, it.path)) for it in items],
                "preprocessing_keys": list(pre), **pre})
    return _numeric(pd.DataFrame(rows))


def superseded_paths(merged: pd.DataFrame) -> list[str]:
    """Result files that a same-recipe, same-seed rerun replaced (each listed once)."""
    if merged.empty or "superseded" not in merged:
        return []
    return sorted({p for paths in merged.drop_duplicates("group_id")["superseded"] for p in paths})


NUMERIC = ("value", "std", "ci_low", "ci_high", "reported", "diff", "priority", "printed_avg")


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Force float dtypes (pandas infers ``str`` for an all-None column)."""
    for col in NUMERIC:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col].astype(object), errors="coerce").astype(float)
    return frame


# --- reported rows --------------------------------------------------------------------------------
def join_reported(reproduced: pd.DataFrame, cells: list[dict[str, Any]]) -> pd.DataFrame:
    """Append reported rows (best-priority source per cell) and add reported/diff to reproduced rows."""
    rep = pd.DataFrame(cells)
    if not rep.empty:
        rep = rep.sort_values("priority", kind="stable")
        rep = rep.drop_duplicates(["backbone", "granularity", "metric", "target"], keep="first")
    frame = reproduced.copy()
    if frame.empty:
        frame = pd.DataFrame(columns=["backbone", "granularity", "metric", "target", "value"])
    frame["reported"] = None
    frame["diff"] = None
    if not rep.empty and not reproduced.empty:
        lookup = {(r.backbone, r.granularity, r.metric, r.target): r for r in rep.itertuples()}
        vals = []
        for r in frame.itertuples():
            hit = lookup.get((r.backbone, r.granularity, r.metric, r.target))
            # thresholded metrics are only comparable at the same threshold source
            if hit is not None and thresholded(r.metric) \
                    and isinstance(hit.threshold_source, str) and hit.threshold_source != r.threshold_source:
                hit = None
            vals.append(None if hit is None else hit.value)
        frame["reported"] = vals
        frame["diff"] = [None if v is None else r - v for r, v in zip(frame["value"], vals, strict=True)]
    if rep.empty:
        return _numeric(frame.reset_index(drop=True))
    return _numeric(pd.concat([frame, rep], ignore_index=True).reset_index(drop=True))


def thresholded(metric: str) -> bool:
    """Whether ``metric`` needs a decision threshold (its registered spec says so)."""
    spec = find_metric_spec(metric)
    return spec is not None and spec.needs_threshold

