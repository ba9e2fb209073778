"""The leaderboard's tables alone (fsfm_bench/results/tables.py), from a hand-made long frame: the cells,
row order, averages and Δ of the display table, and its Markdown, LaTeX, CSV and JSON renderings."""
import math

import numpy as np
import pandas as pd
import pytest
from results_testutil import HAND_MADE_TABLE, HAND_MADE_TARGETS, hand_made_rows

from fsfm_bench.results.tables import (
    ORACLE_MARK,
    display_tables,
    json_rows,
    json_tables,
    to_latex,
    to_markdown,
    wide_csv,
)

TARGETS = HAND_MADE_TARGETS
EXPECTED = HAND_MADE_TABLE


@pytest.fixture()
def rows() -> pd.DataFrame:
    return hand_made_rows()


def test_display_table_from_a_hand_made_frame(rows):
    tables = display_tables(rows, TARGETS)
    assert [title for title, _ in tables] == ["frame-level AUC ↑ (%)"]
    table = tables[0][1]
    assert list(table.columns) == ["Backbone", "Row", "Selection", "CDFv2", "DFDC", "Avg"]
    assert table.values.tolist() == EXPECTED
    assert EXPECTED[0][2] == ORACLE_MARK


def test_markdown_and_latex_render_the_same_cells(rows):
    title, table = display_tables(rows, TARGETS)[0]
    md = to_markdown(table).splitlines()
    assert md[0] == "| Backbone | Row | Selection | CDFv2 | DFDC | Avg |"
    assert md[1] == "|---|---|---|---:|---:|---:|"
    assert md[3] == "| fsfm | reproduced | source_val | 85.00 ± 5.00 (n=2) | 70.00 ± 1.25 (n=2) | 77.50 |"
    assert len(md) == 2 + len(EXPECTED)
    tex = to_latex(title, table)
    assert r"\begin{tabular}{lllrrr}" in tex
    assert r"dinov2 & reproduced & target\_oracle (!) & 60.00 [50.00, 70.00] & -- & -- \\" in tex
    assert r"fsfm & $\Delta$ reproduced $-$ reported &  & -5.00 & +2.00 & -1.50 \\" in tex
    assert r"\caption{frame-level AUC $\uparrow$ (\%)}" in tex


def test_wide_csv_has_one_line_per_row_and_target_with_metrics_wide(rows):
    wide = wide_csv(rows)
    assert len(wide) == 5
    assert list(wide.columns[:9]) == ["protocol", "kind", "backbone", "paper_name", "group_id", "selection_policy",
                                      "threshold_source", "target", "granularity"]
    assert list(wide.columns[-6:]) == ["auc", "auc_std", "auc_ci_low", "auc_ci_high", "auc_reported", "auc_diff"]
    fsfm = wide[(wide["kind"] == "reproduced") & (wide["backbone"] == "fsfm")].set_index("target")
    assert fsfm.loc["CDFv2", "auc"] == 85.0 and fsfm.loc["CDFv2", "auc_std"] == 5.0
    assert fsfm.loc["DFDC", "auc_reported"] == 68.0 and fsfm.loc["DFDC", "auc_diff"] == 2.0
    assert fsfm["n_seeds"].tolist() == [2, 2]
    dino = wide[wide["backbone"] == "dinov2"].iloc[0]
    assert bool(dino["oracle"]) and dino["auc_ci_low"] == 50.0 and dino["auc_ci_high"] == 70.0
    assert not wide[wide["kind"] == "reported"]["oracle"].any()


def test_json_rows_and_tables_are_plain_json(rows):
    records = json_rows(rows.assign(value=rows["value"].astype(np.float64), std=rows["std"].astype(float)))
    assert records[0]["value"] == 85.0 and type(records[0]["value"]) is float
    assert records[2]["std"] is None                       # NaN becomes null
    assert not any(isinstance(v, float) and math.isnan(v) for r in records for v in r.values())
    tables = json_tables(display_tables(rows, TARGETS))
    assert tables == [{"title": "frame-level AUC ↑ (%)",
                       "columns": ["Backbone", "Row", "Selection", "CDFv2", "DFDC", "Avg"], "rows": EXPECTED}]
