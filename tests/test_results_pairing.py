"""Leaderboards say which protocol version they show and which reported numbers it is paired with."""
from __future__ import annotations

from fsfm_bench.results.leaderboard import build


def test_boards_name_the_version_and_the_reported_rows_paired_with_it(tmp_path):
    (tmp_path / "results").mkdir()
    report = build(tmp_path / "results", tmp_path / "boards", figures=False)
    assert set(report.protocols) == {"cdfd@1", "cdfd@2", "cdfas@1", "cdfas@2", "diff@2"}
    index = (tmp_path / "boards" / "index.md").read_text()
    assert "[cdfd@2](cdfd_v2/leaderboard.md): reported rows from `registry/reported/cdfd.yaml`, made the same way" in index
    assert ("[cdfd@1](cdfd_v1/leaderboard.md): reported rows from `registry/reported/cdfd.yaml`, made with cdfd@2, "
            "shown for comparison only") in index
    board = (tmp_path / "boards" / "diff_v2" / "leaderboard.md").read_text()
    assert "Protocol diff@2: reported rows from `registry/reported/diff.yaml`, made the same way as this version." in board
    assert "diff_v1" not in index                     # diff@1 follows neither DiFF recipe: nothing paired
