"""The leaderboard's tables: the display table per granularity and metric, and its renderings.

:func:`display_tables` turns the long frame of :mod:`.merge` (one row per run group, target,
granularity and metric) into one (title, table) per granularity and metric: reproduced, reported
and Δ rows × targets plus their average, each cell in percent with ± std and n, or the bootstrap
interval for one seed. The same tables render as Markdown (:func:`to_markdown`) and LaTeX
(:func:`to_latex`); :func:`wide_csv` is the machine-readable CSV (one line per row and target,
metrics wide) and :func:`json_rows`/:func:`json_tables` the JSON's. ``target_oracle`` rows are
flagged with :data:`ORACLE_MARK` everywhere.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics import find_metric_spec
from .merge import PREPROCESSING, thresholded

#: the order in which granularities' tables (and figures) appear
GRAN_ORDER = ("frame", "video", "image")
#: how a row whose checkpoint was chosen on the target set itself is flagged
ORACLE_MARK = "target_oracle ⚠"


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


def metric_order(metrics: Iterable[str]) -> list[str]:
    """Table order: each registered MetricSpec's ``order``; metrics no plugin registers come last."""
    metrics = list(dict.fromkeys(metrics))
    order = {m: getattr(find_metric_spec(m), "order", 99) for m in metrics}
    return sorted(metrics, key=lambda m: (order[m], m))


def metric_base_title(metric: str) -> str:
    """The registered spec's title of ``metric`` (without ``@param``), or its name."""
    spec = find_metric_spec(metric)
    return spec.display if spec is not None else metric.partition("@")[0]


def metric_title(metric: str) -> str:
    """A table's or axis's title for ``metric``: its spec's title, the parameter in percent, the
    direction (↑ higher is better, ↓ lower) and the unit, e.g. ``TPR@FPR=1% ↑ (%)``."""
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
        for metric in metric_order(sub["metric"]):
            part = sub[sub["metric"] == metric]
            cols = targets + [t for t in dict.fromkeys(part["target"]) if t not in targets]
            lines = []
            keys = ["kind", "backbone", "selection_policy", "threshold_source", "label", "paper_name",
                    "group_id", "checkpoint_sha256"]
            part = part.assign(**{k: part[k] if k in part else None for k in keys})
            repro = part[part["kind"] == "reproduced"]
            rep = part[part["kind"] == "reported"]
            needs_thr = thresholded(metric)

            def thr(source: Any, needs_thr: bool = needs_thr) -> str:   # used in this iteration only
                return f", threshold {source}" if needs_thr and isinstance(source, str) else ""

            row_keys = ["backbone", "selection_policy", "threshold_source", "label"]
            for key, grp in repro.groupby([*row_keys, "group_id"], dropna=False, sort=True):
                # runs that share a row label but not a run group (another initial checkpoint or
                # preprocessing) get one line each, told apart by their initial checkpoint
                same_label = repro
                # key ends with group_id, which is not a row key: compare the row keys only
                for col, value in zip(row_keys, key, strict=False):
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
            out.append((f"{gran}-level {metric_title(metric)}", table))
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
        rec = records.setdefault(key, {**dict(zip(index, key[:-1], strict=True)), "label": key[-1],
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
    ordered = [c for m in metric_order(metric_cols)
               for c in (m, f"{m}_std", f"{m}_ci_low", f"{m}_ci_high", f"{m}_reported", f"{m}_diff")
               if c in wide.columns]
    fixed = [c for c in wide.columns if c not in ordered]
    return wide[fixed + ordered]


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


#: the row fields that name files (lists of paths): published relative to the page's folder
PATH_FIELDS = ("results", "superseded", "scores")


def json_rows(rows: pd.DataFrame, relative_to: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The long frame's rows as JSON-ready records (NaN as null, numpy scalars as Python ones).

    With ``relative_to`` (the folder the JSON is written to), the file paths in ``PATH_FIELDS`` are
    written relative to it, POSIX style (``../results/result_….json``): a committed leaderboard then
    reads the same in every checkout, and its links still resolve from the file's own folder."""
    records = [_json_safe({k: v for k, v in r.items()}) for r in rows.to_dict(orient="records")]
    if relative_to is not None:
        base = Path(relative_to).resolve()
        for rec in records:
            for key in PATH_FIELDS:
                if isinstance(rec.get(key), list):
                    rec[key] = [Path(os.path.relpath(Path(f).resolve(), base)).as_posix() for f in rec[key]]
    return records


def json_tables(tables: list[tuple[str, pd.DataFrame]]) -> list[dict[str, Any]]:
    """The display tables as JSON: title, columns and the rows' cells as shown (text, as the Markdown
    page prints them: a robustness table's seed count is the cell "1", not the number 1)."""
    return [{"title": t, "columns": [str(c) for c in tab.columns],
             "rows": [[str(v) for v in row] for row in tab.values.tolist()]} for t, tab in tables]
