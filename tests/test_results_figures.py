"""Leaderboard figures render readably for 1 and several rows and targets.

Every figure a build saves is checked at save time (``Figure.savefig`` is wrapped): every text lies
inside the canvas, a heatmap's values fit in their cells and its colour bar does not cover them,
and the picture has a sensible size in pixels.
"""
from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure
from results_testutil import make_result, tiny_scores

from fsfm_bench.results import leaderboard as lb
from fsfm_bench.results import write_result

matplotlib.use("Agg", force=True)


def _check_layout(fig: Figure, name: str) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    assert 300 <= width <= 3000 and 200 <= height <= 2000, (name, width, height)
    texts = list(fig.texts)                     # titles, axis labels, legends and values (tick labels:
    for ax in fig.axes:                          # the tight bbox below; off-view ones are never drawn)
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        texts += list(legend.get_texts())
    texts = [t for t in texts if t.get_visible() and t.get_text().strip()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, \
            f"{name}: text {text.get_text()!r} at {box.bounds} leaves the {width:.0f}x{height:.0f} canvas"
    tight = fig.get_tightbbox(renderer)                  # inches
    w_in, h_in = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w_in + 0.01 and tight.y1 <= h_in + 0.01, \
        f"{name}: tight bbox {tight.bounds} exceeds the figure {w_in:.2f}x{h_in:.2f} in"
    if name.startswith("heatmap"):
        ax, cbar = fig.axes[0], fig.axes[1]
        cells = ax.get_window_extent(renderer)
        assert not cells.overlaps(cbar.get_window_extent(renderer)), f"{name}: colour bar covers the cells"
        assert not ax.title.get_window_extent(renderer).overlaps(cbar.get_window_extent(renderer))
        n_rows, n_cols = len(ax.get_yticks()), len(ax.get_xticks())
        cell_w, cell_h = cells.width / n_cols, cells.height / n_rows
        values = [t for t in ax.texts if t.get_text()]
        assert len(values) == n_rows * n_cols
        for text in values:
            box = text.get_window_extent(renderer)
            assert box.width < cell_w and box.height < cell_h, f"{name}: value {text.get_text()!r} overflows its cell"
            assert cells.x0 <= box.x0 and box.x1 <= cells.x1, f"{name}: value {text.get_text()!r} outside the grid"


@pytest.fixture()
def checked(monkeypatch):
    """Wrap Figure.savefig so that every saved figure is checked first; yields the checked names."""
    seen: list[str] = []
    original = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        name = getattr(fname, "name", str(fname)).rsplit("/", 1)[-1]
        _check_layout(self, name)
        seen.append(name)
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return seen


def test_one_row_one_target(tmp_path, checked):
    scores = tiny_scores(targets=("unseen",), videos=6, frames=2)
    write_result(make_result(scores, protocol="demo@1"), tmp_path / "res", scores=scores)
    lb.build(tmp_path / "res", tmp_path / "lb", reported=False)
    assert sorted(checked) == ["bars_frame_auc.png", "bars_frame_eer.png", "bars_video_auc.png",
                               "bars_video_eer.png", "heatmap_frame_auc.png", "heatmap_frame_eer.png",
                               "heatmap_video_auc.png", "heatmap_video_eer.png", "roc_unseen.png"]


def test_several_rows_and_targets(tmp_path, checked):
    targets = ("CDFv2", "WildDeepfake_long_target_name", "DiFF_T2I")
    out = tmp_path / "res"
    for i, name in enumerate(("fsfm", "xception", "a_third_party_backbone_with_a_long_name")):
        scores = tiny_scores(seed=i, targets=targets, videos=8, frames=2, shift=0.3 * (i + 1))
        backbone = {"name": name, "distribution": "fsfm-bench", "version": "0.1.0"}
        write_result(make_result(scores, backbone=backbone, seed=i), out, scores=scores)
    lb.build(out, tmp_path / "lb", reported=False)
    assert {"heatmap_video_auc.png", "bars_video_auc.png", "roc_DiFF_T2I.png"} <= set(checked)
    assert len([n for n in checked if n.startswith("roc_")]) == len(targets)


def test_the_old_layout_is_caught(checked):
    """The check is not vacuous: the pre-fix heatmap (2.3 in wide for one target) fails it."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    grid = pd.DataFrame([[50.0]], index=["fsfm [init 76c019b2]"], columns=["unseen"])
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * grid.shape[1], 1.0 + 0.45 * grid.shape[0]))
    sns.heatmap(grid, annot=True, fmt=".1f", cbar_kws={"label": "AUC ↑ (%)"}, ax=ax)
    ax.set_title("frame-level AUC")
    fig.tight_layout()
    with pytest.raises(AssertionError):
        _check_layout(fig, "heatmap_old.png")
    plt.close(fig)
