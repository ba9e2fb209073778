"""The leaderboard's figures: bar charts, heatmaps and ROC curves, laid out for 1 to N rows and targets.

Each figure is sized from what it shows (the number of rows and targets and the length of their
labels) and drawn with matplotlib's constrained layout, so that no title, tick label, cell value or
colour bar is clipped or drawn over another part. The ``*_figure`` functions return the unsaved
figure so that tests can measure every text's extent against the canvas
(``tests/test_results_figures.py``); :func:`render_figures` saves them for a leaderboard build.
Each run group gets one legend name (:func:`row_names`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FsfmBenchError
from .tables import GRAN_ORDER, metric_base_title, metric_title

#: inches per character of a label at the font sizes used here (a generous estimate for sizing)
_CHAR_IN = 0.075
_DPI = 110


def _text_in(labels, per_char: float = _CHAR_IN) -> float:
    """Width in inches of the longest label (0 when there is none)."""
    return max((len(str(label)) for label in labels), default=0) * per_char


def _pad(fig) -> None:
    """A margin round the constrained layout so that no label touches the canvas edge."""
    fig.get_layout_engine().set(w_pad=0.08, h_pad=0.08)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    return plt, sns


def heatmap_figure(grid: pd.DataFrame, metric: str, gran: str):
    """Rows x targets of one metric with each value written in its cell and a colour bar beside it.

    Cells are wide enough for "100.0"; long target names are turned 30 degrees; the figure is at
    least as wide as its title.
    """
    plt, sns = _pyplot()
    n_rows, n_cols = grid.shape
    cell_w, cell_h = 0.85, 0.42
    rotate = _text_in(grid.columns) > cell_w
    label_w = _text_in(grid.index) + 0.6                       # row names + the "backbone" axis label
    colorbar_w = 1.1                                            # bar, ticks and its rotated label
    title = f"{gran}-level {metric_base_title(metric)}"
    width = max(label_w + n_cols * cell_w + colorbar_w, _text_in([title], 0.1) + 1.0, 3.2)
    xlabels_h = (_text_in(grid.columns) * 0.5 if rotate else 0.2) + 0.45
    height = max(0.55 + n_rows * cell_h + xlabels_h, 2.2)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    _pad(fig)
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    span = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    if span[1] - span[0] < 1e-9:                                # one value: a colour bar around it
        span = (span[0] - 5.0, span[1] + 5.0)
    sns.heatmap(grid, annot=True, fmt=".1f", annot_kws={"fontsize": 9}, vmin=span[0], vmax=span[1],
                cmap="viridis" if metric == "auc" else "viridis_r", linewidths=0.5, linecolor="white",
                cbar_kws={"label": metric_title(metric), "fraction": min(0.3, 0.9 / width), "pad": 0.02},
                ax=ax)
    ax.set_title(title)
    ax.set_xlabel("target")
    ax.set_ylabel("backbone")
    ax.tick_params(axis="y", rotation=0)
    if rotate:
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    return fig


def bars_figure(part: pd.DataFrame, cols: list[str], hues: list[str], palette: dict[str, Any], metric: str,
                title: str):
    """One bar per row and target with its interval, reported rows hatched, the legend to the right."""
    plt, sns = _pyplot()
    legend_w = _text_in(hues, 0.06) + 0.6
    plot_w = max(3.0, 0.12 * len(cols) * len(hues) + 0.5 * len(cols))
    width = min(26.0, max(plot_w + legend_w + 0.8, _text_in([title], 0.1) + 1.0))
    height = max(3.4, 0.16 * len(hues) + 1.2) + (_text_in(cols) * 0.5 if len(cols) > 3 else 0)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    _pad(fig)
    sns.barplot(data=part, x="target", y="value", hue="row", order=cols, hue_order=hues, ax=ax,
                errorbar=None, palette=palette)
    for hue, container in zip(hues, ax.containers, strict=True):   # one bar container per hue
        if hue.endswith("(reported)"):
            for patch in container:
                patch.set_hatch("///")
                patch.set_alpha(0.55)
    width_bar = 0.8 / len(hues)
    for i, hue in enumerate(hues):
        for j, target in enumerate(cols):
            r = part[(part["row"] == hue) & (part["target"] == target)]
            if r.empty:
                continue
            r = r.iloc[0]
            x = j - 0.4 + width_bar * (i + 0.5)
            lo, hi = r.get("ci_low"), r.get("ci_high")
            if r.get("std") is not None and not pd.isna(r.get("std")):
                lo, hi = r["value"] - r["std"], r["value"] + r["std"]
            if lo is not None and not pd.isna(lo):
                ax.errorbar(x, r["value"], yerr=[[r["value"] - lo], [hi - r["value"]]],
                            fmt="none", ecolor="black", capsize=2, lw=0.8)
    ax.set_ylabel(metric_title(metric))
    ax.set_xlabel("target")
    ax.set_title(title)
    if len(cols) > 3 and _text_in(cols) > 0.9:
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7, frameon=False)
    return fig


def roc_figure(target: str, panels: list[tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]]):
    """One ROC panel per granularity of one target; one curve per row, the chance line dashed."""
    plt, sns = _pyplot()
    names = [name for _gran, curves in panels for name, _f, _t in curves]
    legend_w = _text_in(names, 0.06) + 0.6
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels) + legend_w, 3.6), squeeze=False,
                             layout="constrained")
    _pad(fig)
    palette = sns.color_palette("tab10")
    for ax, (gran, curves) in zip(axes[0], panels, strict=True):
        for i, (name, fpr, tpr) in enumerate(curves):
            ax.plot(fpr, tpr, label=name, color=palette[i % len(palette)], lw=1.2)
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.7)
        ax.set_title(f"{target}, {gran}-level")
        ax.set_xlabel("FPR (real called fake)")
        ax.set_ylabel("TPR (fake detected)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    return fig


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



def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def render_figures(rows: pd.DataFrame, targets: list[str], figdir: Path, notes: list[str]) -> list[Path]:
    """Every figure of one protocol's leaderboard into ``figdir``: bars and heatmap per granularity and
    metric (AUC, HTER, EER), and the ROC curves per target. Returns the files in page order."""
    _pyplot()
    import seaborn as sns

    figdir.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for gran in [g for g in GRAN_ORDER if g in set(rows["granularity"])]:
        for metric in [m for m in ("auc", "hter", "eer") if m in set(rows["metric"])]:
            part = rows[(rows["granularity"] == gran) & (rows["metric"] == metric)].copy()
            if part.empty:
                continue
            part["row"] = row_names(part)
            cols = targets + [t for t in dict.fromkeys(part["target"]) if t not in targets]
            cols = [c for c in cols if c in set(part["target"])]
            hues = list(dict.fromkeys(part.sort_values(["kind", "backbone"], ascending=[False, True])["row"]))
            backbones = list(dict.fromkeys(part.sort_values("backbone")["backbone"]))
            colours = dict(zip(backbones, sns.color_palette("husl", len(backbones)), strict=True))
            palette = {h: colours[part.loc[part["row"] == h, "backbone"].iloc[0]] for h in hues}
            title = f"{rows['protocol'].iloc[0]}: {gran}-level {metric_base_title(metric)}"
            made.append(_save(bars_figure(part, cols, hues, palette, metric, title),
                              figdir / f"bars_{gran}_{metric}.png"))
            repro = part[part["kind"] == "reproduced"]
            if not repro.empty:
                grid = repro.pivot_table(index="row", columns="target", values="value", aggfunc="mean")
                grid = grid.reindex(columns=[c for c in cols if c in grid.columns])
                made.append(_save(heatmap_figure(grid, metric, gran), figdir / f"heatmap_{gran}_{metric}.png"))
    made += _roc_figures(rows, targets, figdir, notes)
    return made


def _roc_figures(rows: pd.DataFrame, targets: list[str], figdir: Path, notes: list[str]) -> list[Path]:
    from ..metrics import roc
    from .compute import units
    from .scores import read_scores

    repro = rows[rows["kind"] == "reproduced"]
    if repro.empty:
        return []
    curves: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    names = row_names(repro)
    for _, grp in repro.groupby("group_id", dropna=False, sort=True):
        backbone = grp.iloc[0]["backbone"]
        file = grp.iloc[0]["scores"][0]
        try:
            scores = read_scores(file)
        except FsfmBenchError as exc:
            notes.append(f"ROC for {backbone} skipped: {exc}")
            continue
        name = names.loc[grp.index[0]]
        test = scores[scores["split"] != "val"]
        for (target, gran), _ in grp.groupby(["target", "granularity"]):
            sub = test[test["target"] == target]
            if sub.empty:
                continue
            try:
                y, s, _ = units(sub, gran)
                fpr, tpr, _ = roc(y, s)
            except FsfmBenchError as exc:
                notes.append(f"ROC for {backbone}/{target}/{gran} skipped: {exc}")
                continue
            curves.setdefault((target, gran), []).append((name, fpr, tpr))
    made = []
    all_targets = targets + [t for t in dict.fromkeys(t for t, _ in curves) if t not in targets]
    for target in all_targets:
        panels = [(g, curves[(target, g)]) for g in GRAN_ORDER if (target, g) in curves]
        if not panels:
            continue
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in target)
        made.append(_save(roc_figure(target, panels), figdir / f"roc_{safe}.png"))
    return made
