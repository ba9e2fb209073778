"""Leaderboards built from result files: collect, validate, merge seeds, join paper numbers.

``build(results_dir, out_dir)`` is what ``fsfm-bench leaderboard build`` runs. It never crashes on
a bad result file: each invalid file is reported (path and first problem) and skipped. Per protocol
it writes ``<out>/<id>_v<version>/leaderboard.{md,csv,tex,html,json}`` and ``figures/*.png``, plus
``<out>/index.md``. Everything is first built into a temporary folder inside ``out`` and then moved
into place file by file with ``os.replace``, so a killed build leaves every previous table whole.

Conventions: tables show percent; a row merges the runs that differ only in seed (same protocol,
backbone and variant, checkpoint, recipe, selection policy, threshold source, preprocessing and
label) as mean, population std (as FLIP/FSFM's performance.csv) and n; the interval shown for n = 1
is the bootstrap CI (for n > 1 the mean of the per-seed bounds, kept in the CSV/JSON). The recipe is
the resolved config without run-only keys (seeds, work_dir, device, workers, caches; RUN_ONLY_KEYS):
only a same-recipe, same-seed rerun supersedes an earlier result; another recipe is its own row,
labelled ``config <hash8>: <keys that differ from the most used recipe>``. Every output (md, tex,
html, csv, json, figures) keeps one row per run group (``group_id``). Paper-reported rows
are separate rows marked ``reported`` with their source, and each reproduced row with a reported
counterpart gets a Δ (reproduced - reported) row. ``target_oracle`` rows are flagged everywhere.
"""
from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import FsfmBenchError
from ..io import atomic_write_json, atomic_write_text, sha256_json
from ..metrics import find_metric_spec
from .reported import load_reported, pairing_text, reported_cells, standalone_refs
from .result import RESULT_GLOB, read_result, readable, scores_path

GRAN_ORDER = ("frame", "video", "image")
PREPROCESSING = ("detector", "crop", "img_size", "interpolation", "normalize", "frames_per_video")
ORACLE_MARK = "target_oracle ⚠"


@dataclass
class Loaded:
    path: Path
    result: dict[str, Any]


@dataclass
class BuildReport:
    """What a build produced: protocols written, results used and files skipped (with why)."""

    out_dir: Path
    protocols: dict[str, Path] = field(default_factory=dict)
    used: list[Path] = field(default_factory=list)
    superseded: list[Path] = field(default_factory=list)      # replaced by a same-recipe, same-seed rerun
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- collect and merge ----------------------------------------------------------------------------
def collect(results_dir: str | os.PathLike) -> tuple[list[Loaded], list[tuple[Path, str]]]:
    """Every ``result_*.json`` under ``results_dir`` (recursively): valid ones and skipped ones."""
    root = _results_root(results_dir)
    loaded, skipped = [], []
    for path in sorted(root.rglob(RESULT_GLOB)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            loaded.append(Loaded(path, read_result(path)))
        except FsfmBenchError as exc:
            skipped.append((path, str(exc)))
    return loaded, skipped


def _results_root(results_dir: str | os.PathLike) -> Path:
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


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * float(x)


def _pre_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return value


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
            if hit is not None and _thresholded(r.metric) \
                    and isinstance(hit.threshold_source, str) and hit.threshold_source != r.threshold_source:
                hit = None
            vals.append(None if hit is None else hit.value)
        frame["reported"] = vals
        frame["diff"] = [None if v is None else r - v for r, v in zip(frame["value"], vals)]
    if rep.empty:
        return _numeric(frame.reset_index(drop=True))
    return _numeric(pd.concat([frame, rep], ignore_index=True).reset_index(drop=True))


# --- presentation ---------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _cell(row: pd.Series) -> str:
    text = _fmt(row["value"])
    std = row.get("std")
    n = row.get("n_seeds")
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {_fmt(std)}"
    if row["kind"] == "reproduced":
        if n and n > 1:
            text += f" (n={int(n)})"
        elif row.get("ci_low") is not None and not pd.isna(row.get("ci_low")):
            text += f" [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
    return text


def _selection(policy: str) -> str:
    return ORACLE_MARK if policy == "target_oracle" else policy


def _thresholded(metric: str) -> bool:
    spec = find_metric_spec(metric)
    return spec is not None and spec.needs_threshold


def _metric_order(metrics) -> list[str]:
    """Table order: each registered MetricSpec's ``order``; metrics no plugin registers come last."""
    metrics = list(dict.fromkeys(metrics))
    order = {m: getattr(find_metric_spec(m), "order", 99) for m in metrics}
    return sorted(metrics, key=lambda m: (order[m], m))


def metric_base_title(metric: str) -> str:
    """The registered spec's title of ``metric`` (without ``@param``), or its name."""
    spec = find_metric_spec(metric)
    return spec.display if spec is not None else metric.partition("@")[0]


def _metric_title(metric: str) -> str:
    base, _, arg = metric.partition("@")
    title = metric_base_title(base)
    if arg:
        title = f"{title}={float(arg) * 100:g}%"
    spec = find_metric_spec(base)
    return title + (" ↑" if spec is None or spec.higher_is_better else " ↓") + " (%)"


def display_tables(rows: pd.DataFrame, targets: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) per granularity and metric: reproduced, reported and Δ rows × targets + Avg."""
    out = []
    if rows.empty:
        return out
    for gran in [g for g in GRAN_ORDER if g in set(rows["granularity"])]:
        sub = rows[rows["granularity"] == gran]
        for metric in _metric_order(sub["metric"]):
            part = sub[sub["metric"] == metric]
            cols = targets + [t for t in dict.fromkeys(part["target"]) if t not in targets]
            lines = []
            keys = ["kind", "backbone", "selection_policy", "threshold_source", "label", "paper_name",
                    "group_id", "checkpoint_sha256"]
            part = part.assign(**{k: part[k] if k in part else None for k in keys})
            repro = part[part["kind"] == "reproduced"]
            rep = part[part["kind"] == "reported"]
            thresholded = _thresholded(metric)

            def thr(source: Any) -> str:
                return f", threshold {source}" if thresholded and isinstance(source, str) else ""

            row_keys = ["backbone", "selection_policy", "threshold_source", "label"]
            for key, grp in repro.groupby([*row_keys, "group_id"], dropna=False, sort=True):
                # runs that share a row label but not a run group (another initial checkpoint or
                # preprocessing) get one line each, told apart by their initial checkpoint
                same_label = repro
                for col, value in zip(row_keys, key):
                    same_label = same_label[(same_label[col] == value) | (same_label[col].isna() & pd.isna(value))]
                init = ""
                if same_label["group_id"].nunique() > 1:
                    sha = grp["checkpoint_sha256"].iloc[0]
                    init = f", init {sha[:8]}" if isinstance(sha, str) else f", group {key[4]}"
                lines.append(_line(grp, cols, targets, key[0], "reproduced" + thr(key[2])
                                   + (f" ({key[3]}{init})" if isinstance(key[3], str) and key[3] else
                                      (f" ({init[2:]})" if init else "")), key[1]))
                matched = rep[rep["backbone"] == key[0]]
                if not matched.empty:
                    src = matched.iloc[0]
                    lines.append(_line(matched, cols, targets, key[0],
                                       f"reported ({src['source_kind']}: {src['paper_name']}{thr(src['threshold_source'])})",
                                       src["selection_policy"]))
                    lines.append(_delta_line(grp, cols, targets, key[0]))
            shown = set(repro["backbone"])
            for backbone, grp in rep.groupby("backbone", sort=False):
                if backbone in shown:
                    continue
                src = grp.iloc[0]
                lines.append(_line(grp, cols, targets, backbone,
                                   f"reported ({src['source_kind']}: {src['paper_name']}{thr(src['threshold_source'])})",
                                   src["selection_policy"]))
            table = pd.DataFrame(lines, columns=["Backbone", "Row", "Selection", *cols, "Avg"])
            out.append((f"{gran}-level {_metric_title(metric)}", table))
    return out


def _avg(grp: pd.DataFrame, targets: list[str], column: str = "value") -> float | None:
    vals = [grp.loc[grp["target"] == t, column] for t in targets]
    if not targets or any(v.empty or v.isna().all() for v in vals):
        return None
    return float(np.mean([float(v.iloc[0]) for v in vals]))


def _line(grp, cols, targets, backbone, kind, policy) -> list[str]:
    """One table row; a reported row shows the paper's printed average when it has one."""
    by_target = {r["target"]: r for _, r in grp.iterrows()}
    cells = [_cell(by_target[t]) if t in by_target else "–" for t in cols]
    avg = _avg(grp, targets)
    if "printed_avg" in grp and grp["printed_avg"].notna().any():
        avg = float(grp["printed_avg"].dropna().iloc[0])
    return [backbone, kind, _selection(policy), *cells, _fmt(avg)]


def _delta_line(grp, cols, targets, backbone) -> list[str]:
    by_target = {r["target"]: r for _, r in grp.iterrows()}
    cells = [_fmt(by_target[t]["diff"], sign=True) if t in by_target else "–" for t in cols]
    reported_avg = _avg(grp.dropna(subset=["reported"]), targets, "reported")   # from the printed cells
    repro_avg = _avg(grp, targets)
    avg = None if reported_avg is None or repro_avg is None else repro_avg - reported_avg
    return [backbone, "Δ reproduced − reported", "", *cells, _fmt(avg, sign=True)]


def to_markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" if i < 3 else "---:" for i in range(len(table.columns))) + "|"
    body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in table.values]
    return "\n".join([header, rule, *body])


def _tex(text: Any) -> str:
    text = str(text)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("±", r"$\pm$"), ("Δ", r"$\Delta$"),
                 ("−", "$-$"), ("⚠", r"(!)"), ("↑", r"$\uparrow$"), ("↓", r"$\downarrow$"), ("–", "--")):
        text = text.replace(a, b)
    return text


def to_latex(title: str, table: pd.DataFrame) -> str:
    spec = "lll" + "r" * (len(table.columns) - 3)
    lines = [f"% {title}", r"\begin{table}[t]", r"\centering", r"\small",
             rf"\caption{{{_tex(title)}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(_tex(c) for c in table.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(_tex(v) for v in row) + r" \\" for row in table.values]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def wide_csv(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (kind, backbone, selection, threshold source, target, granularity); metrics wide."""
    if rows.empty:
        return pd.DataFrame()
    # the run group (group_id) is part of the row identity, as in the md/tex/html tables and the json
    index = ["protocol", "kind", "backbone", "paper_name", "group_id", "selection_policy", "threshold_source",
             "target", "granularity"]
    rows = rows.copy()
    if "group_id" not in rows:
        rows["group_id"] = None
    rows["oracle"] = rows["selection_policy"] == "target_oracle"
    pre_cols = list(PREPROCESSING)
    if "preprocessing_keys" in rows:
        for keys in rows["preprocessing_keys"].dropna():
            pre_cols += [k for k in keys if k not in pre_cols]
    for col in ("label", "source", "source_kind", "n_seeds", "n", *pre_cols, "checkpoint_sha256",
                "config_hashes", "manifest_hash", "fsfm_bench_version"):
        if col not in rows:
            rows[col] = None
    records: dict[tuple, dict[str, Any]] = {}
    metric_cols: list[str] = []
    for _, r in rows.iterrows():
        key = tuple(None if pd.isna(r[k]) else r[k] for k in index) + (r.get("label"),)
        rec = records.setdefault(key, {**dict(zip(index, key[:-1])), "label": key[-1],
                                       "oracle": bool(r["oracle"]), "n_seeds": r["n_seeds"], "n": r["n"],
                                       "source": r["source"], "source_kind": r["source_kind"],
                                       **{k: r[k] for k in pre_cols},
                                       "checkpoint_sha256": r["checkpoint_sha256"],
                                       "config_hashes": ";".join(r["config_hashes"])
                                       if isinstance(r["config_hashes"], list) else None,
                                       "manifest_hash": r["manifest_hash"],
                                       "fsfm_bench_version": r["fsfm_bench_version"]})
        m = r["metric"]
        if m not in metric_cols:
            metric_cols.append(m)
        rec[m] = round(float(r["value"]), 4)
        for extra in ("std", "ci_low", "ci_high", "reported", "diff"):
            if extra in r and r[extra] is not None and not pd.isna(r[extra]):
                rec[f"{m}_{extra}"] = round(float(r[extra]), 4)
    wide = pd.DataFrame(list(records.values()))
    for col in ("n_seeds", "n", "img_size", "frames_per_video"):
        if col in wide:
            wide[col] = pd.to_numeric(wide[col], errors="coerce").astype("Int64")
    ordered = [c for m in _metric_order(metric_cols)
               for c in (m, f"{m}_std", f"{m}_ci_low", f"{m}_ci_high", f"{m}_reported", f"{m}_diff")
               if c in wide.columns]
    fixed = [c for c in wide.columns if c not in ordered]
    return wide[fixed + ordered]


# --- figures --------------------------------------------------------------------------------------
def row_names(rows: pd.DataFrame) -> pd.Series:
    """A short legend name per row, one per run group: backbone, (oracle), and what tells groups
    of the same backbone apart (config hash, initial checkpoint, else the group id)."""
    names = {}
    repro = rows[rows["kind"] == "reproduced"]
    oracle = rows["selection_policy"] == "target_oracle"
    for idx, r in rows.iterrows():
        if r["kind"] != "reproduced":
            names[idx] = f"{r['backbone']} (reported)"
            continue
        name = r["backbone"] + (" (oracle)" if oracle.loc[idx] else "")
        peers = repro[(repro["backbone"] == r["backbone"]) & (oracle.loc[repro.index] == oracle.loc[idx])]
        if peers["group_id"].nunique() > 1:
            parts = []
            note = r.get("config_note")
            if isinstance(note, str) and note:
                parts.append(note.split(":")[0])
            sha = r.get("checkpoint_sha256")
            if peers["checkpoint_sha256"].nunique(dropna=False) > 1:
                parts.append(f"init {sha[:8]}" if isinstance(sha, str) else "init none")
            name += f" [{', '.join(parts) if parts else 'group ' + str(r['group_id'])}]"
        names[idx] = name
    return pd.Series(names, index=rows.index, dtype=object)


# --- page writers ---------------------------------------------------------------------------------
def _header(ref: str, doc: dict | None, n_results: int, n_superseded: int = 0) -> list[str]:
    lines = [f"# Leaderboard: {ref}" + (f" — {doc['title']}" if doc and doc.get("title") else ""), "",
             "Generated by `fsfm-bench leaderboard build`; never edit by hand. Values in percent. "
             "Reproduced rows: mean ± population std over seeds (n = seeds) or, for one seed, the "
             "bootstrap 95% interval in brackets. Reported rows are the papers' numbers with their "
             "source; Δ = reproduced − reported. "
             f"Rows selected with `{ORACLE_MARK}` chose their checkpoint on the target set itself.",
             "", f"Protocol {ref}: {pairing_text(ref, doc)}", "", f"Results used: {n_results}"
             + (f" ({n_superseded} superseded by same-seed reruns)" if n_superseded else "") + ".", ""]
    if doc and doc.get("notes"):
        lines += [f"Note on the reported numbers: {doc['notes']}", ""]
    return lines


def _sources(doc: dict | None) -> list[str]:
    if not doc:
        return []
    lines = ["## Sources of the reported numbers", ""]
    for key, src in doc["sources"].items():
        lines.append(f"- `{key}` ({src['kind']}): {src['citation']}" + (f" — {src['note']}" if src.get("note") else ""))
    return lines + [""]


def _html(ref: str, header: list[str], tables, figures: list[Path], sources: list[str],
          skipped: list[tuple[Path, str]]) -> str:
    import base64
    import html

    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>fsfm-bench leaderboard {html.escape(ref)}</title><style>",
             "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
             "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}"
             "tr.reported{background:#f3f6fb;font-style:italic}tr.delta{color:#555}"
             "img{max-width:100%;margin:0.5em 0}.oracle{color:#b00}</style></head><body>"]
    parts.append(f"<h1>{html.escape(header[0].lstrip('# '))}</h1>")
    parts += [f"<p>{html.escape(line)}</p>" for line in header[1:] if line]
    for title, table in tables:
        parts.append(f"<h2>{html.escape(title)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns) + "</tr>")
        for row in table.values:
            cls = "reported" if str(row[1]).startswith("reported") else "delta" if str(row[1]).startswith("Δ") else ""
            cells = "".join(f"<td class='oracle'>{html.escape(str(v))}</td>" if str(v) == ORACLE_MARK
                            else f"<td>{html.escape(str(v))}</td>" for v in row)
            parts.append(f"<tr class='{cls}'>{cells}</tr>")
        parts.append("</table>")
    for fig in figures:
        data = base64.b64encode(fig.read_bytes()).decode("ascii")
        parts.append(f"<h3>{html.escape(fig.stem)}</h3><img alt='{html.escape(fig.stem)}' "
                     f"src='data:image/png;base64,{data}'>")
    if sources:
        parts.append("<h2>Sources</h2><ul>" + "".join(f"<li>{html.escape(s[2:])}</li>" for s in sources[2:] if s)
                     + "</ul>")
    if skipped:
        parts.append("<h2>Skipped result files</h2><ul>" + "".join(
            f"<li>{html.escape(str(p))}: {html.escape(m)}</li>" for p, m in skipped) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _protocol_dir(ref: str) -> str:
    pid, _, version = ref.partition("@")
    return f"{pid}_v{version}"


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    return obj


def _write_protocol(ref: str, rows: pd.DataFrame, doc: dict | None, targets: list[str], n_results: int,
                    skipped, dest: Path, figures: bool, notes: list[str], n_superseded: int = 0,
                    loaded: list[Loaded] | None = None) -> None:
    from .robustness import section

    dest.mkdir(parents=True, exist_ok=True)
    robustness = section(rows, loaded or [])        # perturb= results: their own tables and figure
    tables = display_tables(rows, targets) + robustness.tables
    header = _header(ref, doc, n_results, n_superseded)
    sources = _sources(doc)
    md = header[:]
    for title, table in tables:
        md += [f"## {title}", "", to_markdown(table), ""]
    md += sources
    if figures:
        from .figures import render_figures

        figs = render_figures(rows, targets, dest / "figures", notes) if not rows.empty else []
        figs += robustness.figures(dest / "figures")
        md += ["## Figures", ""] + [f"![{f.stem}](figures/{f.name})" for f in figs] + [""]
    else:
        figs = []
    atomic_write_text(dest / "leaderboard.md", "\n".join(md))
    atomic_write_text(dest / "leaderboard.tex", "\n".join(to_latex(t, tab) for t, tab in tables))
    wide = wide_csv(rows)
    atomic_write_text(dest / "leaderboard.csv", wide.to_csv(index=False) if not wide.empty else "")
    atomic_write_text(dest / "leaderboard.html", _html(ref, header, tables, figs, sources,
                                                        [(p, m) for p, m in skipped]))
    records = [_json_safe({k: v for k, v in r.items()}) for r in rows.to_dict(orient="records")]
    atomic_write_json(dest / "leaderboard.json", {
        "protocol": ref, "targets": targets, "n_results": n_results, "n_superseded": n_superseded,
        "rows": records,
        "tables": [{"title": t, "columns": list(tab.columns), "rows": tab.values.tolist()} for t, tab in tables],
        "sources": doc["sources"] if doc else {}})


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
    _results_root(results_dir)                      # a wrong results= fails before out= is created
    if out.exists() and not out.is_dir():
        raise FsfmBenchError(f"leaderboard folder out={out} is a file, not a folder; pass out=DIR")
    out.mkdir(parents=True, exist_ok=True)
    with held(out / ".build.lock", f"leaderboard build into {out}"):
        return _build(results_dir, out, reported=reported, figures=figures, reported_dir=reported_dir, verify=verify)


def _build(results_dir, out: Path, *, reported: bool, figures: bool, reported_dir, verify: bool) -> BuildReport:
    from .result import remove_orphans
    from .verify import problem

    remove_orphans(results_dir)
    loaded, skipped = collect(results_dir)
    if verify:
        failed = [(it, problem(it.result, it.path)) for it in loaded]
        skipped += [(it.path, why) for it, why in failed if why]
        loaded = [it for it, why in failed if not why]
    docs = load_reported(reported_dir) if reported else {}
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
            _write_protocol(ref, rows, doc, targets, n_results, skipped, tmp / _protocol_dir(ref),
                            figures, report.notes, n_superseded,
                            loaded=[it for it in loaded if protocol_ref(it.result) == ref])
            report.protocols[ref] = out / _protocol_dir(ref)
        index = ["# fsfm-bench leaderboards", "", "Generated by `fsfm-bench leaderboard build`.", ""]
        index += [f"- [{ref}]({_protocol_dir(ref)}/leaderboard.md): {pairing_text(ref, docs.get(ref))}"
                  for ref in report.protocols]
        if skipped:
            index += ["", "## Skipped result files (invalid)", ""]
            index += [f"- `{p}`: {m}" for p, m in skipped]
        atomic_write_text(tmp / "index.md", "\n".join(index) + "\n")
        _publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report
