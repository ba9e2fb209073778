"""User runs never rewrite the checkout's committed boards: from the fsfm-bench checkout, runs and
leaderboards go to the user folder ($FSFM_BENCH_HOME); elsewhere to the working directory; out= wins."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from run_testutil import make_prepared, synth_config

from fsfm_bench import paths
from fsfm_bench.protocols.run import run

REPO = Path(__file__).resolve().parents[1]


def test_output_root_rules(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    assert paths.source_tree() == REPO and paths.inside_source_tree()
    assert paths.output_root() == tmp_path / "home"
    monkeypatch.chdir(REPO / "tests")                      # anywhere inside the checkout
    assert paths.output_root() == tmp_path / "home"
    assert paths.output_root(str(tmp_path / "mine")) == tmp_path / "mine"
    monkeypatch.chdir(tmp_path)
    assert paths.output_root() == Path() and not paths.inside_source_tree()
    assert paths.under(Path("/x"), "leaderboards", "lb") == Path("/x/leaderboards")
    assert paths.under(Path("/x"), str(tmp_path / "abs"), "lb") == tmp_path / "abs"
    monkeypatch.delenv(paths.HOME_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.user_home() == tmp_path / "xdg" / "fsfm-bench"


def _porcelain() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout


def test_a_run_from_the_checkout_leaves_git_status_unchanged(tmp_path, monkeypatch):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout of fsfm-bench and the git command")
    before = _porcelain()
    data = make_prepared(tmp_path / "data", splits=(("train", 3), ("val", 2), ("test", 2)), frames=2)
    cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
    cfg["work_dir"] = "runs"                               # the recipe's defaults: relative folders
    cfg["leaderboard"].update(results_dir="leaderboards/results", dir="leaderboards", rebuild=True)
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    logged: list[str] = []
    (outcome,) = run(cfg, log=logged.append, progress=False)
    assert _porcelain() == before
    home = tmp_path / "home"
    assert outcome.result_path.parent == home / "leaderboards" / "results"
    assert (home / "leaderboards" / "demo_v1" / "leaderboard.md").is_file()
    assert list((home / "runs").rglob("selection.json"))
    assert any(line.startswith("note: the working directory is the fsfm-bench checkout") for line in logged)
    assert logged[-1].startswith("done in") and f"run folder {home / 'runs'}" in logged[-1]
