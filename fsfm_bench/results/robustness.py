"""The ``robustness`` block of a result: its metrics from the perturbed scores, and its leaderboard.

A result evaluated with ``perturb=`` keeps, beside its clean ``results``, one entry per condition
(``perturbation``, ``level``, ``param``, the plugin behind it and that condition's ``results``, in
the same layout as the clean block) and a second per-sample scores file (``robustness.scores_file``:
the scores columns plus ``perturbation`` and ``level``). Metrics come from those scores with the
protocol's conventions; a source-validation threshold uses the clean validation scores.

Leaderboards: per protocol and granularity, a table of AUC per family averaged over its levels
(and over seeds), with the clean AUC and the mean over families, and a figure of AUC against
severity per family. Reproduced rows only: no paper reports these settings for these protocols.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .compute import compute_metrics
from .scores import COLUMNS

SCORES_SUFFIX = ".robustness.scores.csv"
METRIC = "auc"


def condition_metrics(test: pd.DataFrame, val: pd.DataFrame | None, metrics: Sequence[str],
                      granularities: Sequence[str], threshold_source: str, targets: Sequence[str] | None,
                      n_resamples: int, confidence: float, seed: int) -> dict[str, Any]:
    """One condition's results block: its perturbed test scores plus the clean validation scores."""
    frame = test[COLUMNS]
    if val is not None and not val.empty:
        frame = pd.concat([frame, val[COLUMNS]], ignore_index=True)
    return compute_metrics(frame, list(metrics), granularities=list(granularities), threshold_source=threshold_source,
                           targets=list(targets) if targets is not None else None, n_resamples=n_resamples,
                           confidence=confidence, seed=seed)


def robustness_scores_path(result: dict[str, Any], result_path: str | os.PathLike) -> Path:
    return (Path(result_path).parent / result["robustness"]["scores_file"]).resolve()


def recompute(result: dict[str, Any], result_path: str | os.PathLike, clean: pd.DataFrame,
              settings: dict[str, Any], n_resamples: int | None = None) -> dict[str, Any] | None:
    """The robustness block recomputed under ``settings`` (what ``rescore`` changed), or None.

    ``n_resamples``: bootstrap resamples per condition; None keeps the block's own (conditions are
    scored without intervals by default, eval.robustness_bootstrap)."""
    from .scores import read_scores

    block = result.get("robustness")
    if not block:
        return None
    if n_resamples is None:
        n_resamples = int((block.get("bootstrap") or {}).get("n_resamples", 0))
    table = read_scores(robustness_scores_path(result, result_path))
    val = clean[clean["split"] == "val"]
    conditions = []
    for entry in block["conditions"]:
        part = table[(table["perturbation"] == entry["perturbation"]) & (table["level"] == int(entry["level"]))]
        conditions.append({**entry, "results": condition_metrics(
            part, val, settings["metrics"], settings["granularities"], settings["threshold_source"],
            settings["targets"], n_resamples, settings["confidence"], settings["seed"])})
    return {**block, "bootstrap": {"n_resamples": n_resamples}, "conditions": conditions}


# --- leaderboards --------------------------------------------------------------------------------
@dataclass
class Section:
    """What the leaderboard adds for robustness: tables (title, frame) and a long frame to plot."""

    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    long: pd.DataFrame = field(default_factory=pd.DataFrame)

    def figures(self, figdir: Path) -> list[Path]:
        return _figures(self.long, figdir) if not self.long.empty else []


def _row_label(row: pd.Series) -> str:
    label = row.get("label")
    return row["backbone"] + (f" ({label})" if isinstance(label, str) and label else "")


def long_frame(rows: pd.DataFrame, loaded: list) -> pd.DataFrame:
    """One line per (run group, seed, target, granularity, family, level): AUC in percent; level 0
    is the clean AUC of the same result. Per group and seed the newest result that HAS a robustness
    block is used (a later plain rerun supersedes it in the main table, not here)."""
    if rows.empty or "group_id" not in rows:
        return pd.DataFrame()
    by_path = {str(it.path): it.result for it in loaded}
    out = []
    repro = rows[rows["kind"] == "reproduced"].drop_duplicates("group_id")
    for _, row in repro.iterrows():
        paths = list(row["results"]) + list(row.get("superseded") or [])
        newest: dict[int, dict[str, Any]] = {}
        for path in paths:
            res = by_path.get(str(path))
            if not res or not res.get("robustness"):
                continue
            seed = res["seeds"]["seed"]
            if seed not in newest or (res.get("created_at") or "", res["run_id"]) > \
                    (newest[seed].get("created_at") or "", newest[seed]["run_id"]):
                newest[seed] = res
        for seed, res in newest.items():
            base = {"group_id": row["group_id"], "row": _row_label(row), "seed": seed}
            blocks = [("clean", 0, res["results"])] + [(c["perturbation"], int(c["level"]), c["results"])
                                                        for c in res["robustness"]["conditions"]]
            for family, level, results in blocks:
                for target, by_gran in results.items():
                    for gran, by_metric in by_gran.items():
                        if METRIC in by_metric:
                            out.append({**base, "target": target, "granularity": gran, "family": family,
                                        "level": level, "value": 100.0 * float(by_metric[METRIC]["value"])})
    return pd.DataFrame(out)


def section(rows: pd.DataFrame, loaded: list) -> Section:
    """The robustness tables of one protocol (empty when no result has a robustness block)."""
    from .tables import GRAN_ORDER

    long = long_frame(rows, loaded)
    if long.empty:
        return Section()
    families = list(dict.fromkeys(long.loc[long["family"] != "clean", "family"]))
    tables = []
    seeds = long.groupby(["group_id", "target", "granularity", "family", "level"], sort=False)["value"].mean()
    seeds = seeds.reset_index()
    for gran in [g for g in GRAN_ORDER if g in set(long["granularity"])]:
        part = seeds[seeds["granularity"] == gran]
        lines = []
        for (group, target), grp in part.groupby(["group_id", "target"], sort=False):
            row = long.loc[long["group_id"] == group, "row"].iloc[0]
            n_seeds = long.loc[long["group_id"] == group, "seed"].nunique()
            clean = grp.loc[grp["family"] == "clean", "value"]
            cells, means = [], []
            for fam in families:
                vals = grp.loc[grp["family"] == fam, "value"]
                if vals.empty:
                    cells.append("–")
                    continue
                means.append(float(vals.mean()))
                levels = grp.loc[grp["family"] == fam, "level"].nunique()
                cells.append(f"{vals.mean():.2f}" + (f" ({levels}/5)" if levels < 5 else ""))
            lines.append([row, target, n_seeds, f"{clean.iloc[0]:.2f}" if not clean.empty else "–", *cells,
                          f"{np.mean(means):.2f}" if len(means) == len(families) else "–"])
        table = pd.DataFrame(lines, columns=["Backbone", "Target", "Seeds", "Clean", *families, "Mean"])
        tables.append((f"Robustness: {gran}-level AUC ↑ (%) per perturbation, mean over its levels "
                       "(DeeperForensics-1.0 severities; reproduced rows only)", table))
    return Section(tables, long)


def _figures(long: pd.DataFrame, figdir: Path) -> list[Path]:
    """AUC against severity (0 = clean), one panel per family, one line per row and target, at the
    protocol's first granularity (the tables have every granularity)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import seaborn as sns

    figdir.mkdir(parents=True, exist_ok=True)
    made = []
    curves = long.groupby(["row", "target", "granularity", "family", "level"], sort=False)["value"].mean().reset_index()
    families = list(dict.fromkeys(curves.loc[curves["family"] != "clean", "family"]))
    for gran in list(dict.fromkeys(curves["granularity"]))[:1]:      # the protocol's first granularity
        part = curves[curves["granularity"] == gran]
        clean = part[part["family"] == "clean"]
        # the clean point (level 0) starts every family's curve
        lines = [part[part["family"] != "clean"]] + [clean.assign(family=fam) for fam in families]
        data = pd.concat(lines, ignore_index=True)
        data["line"] = data["row"] + " · " + data["target"]
        grid = sns.relplot(data=data, x="level", y="value", hue="line", col="family", col_order=families,
                           col_wrap=min(4, len(families)), kind="line", marker="o", height=2.4, aspect=1.1,
                           facet_kws={"sharey": True})
        grid.set_axis_labels("severity level (0 = clean)", "AUC (%)")
        grid.set_titles("{col_name}")
        # the title inside the canvas, above the panels (the saved picture is not cropped)
        grid.figure.suptitle(f"{gran}-level AUC under DeeperForensics-1.0 perturbations", y=0.995, va="top")
        grid.figure.subplots_adjust(top=1 - 0.5 / grid.figure.get_size_inches()[1])
        path = figdir / f"robustness_{gran}_auc.png"
        grid.figure.savefig(path, dpi=110)
        plt.close(grid.figure)
        made.append(path)
    return made
