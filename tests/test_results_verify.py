"""`leaderboard build` publishes a number only when the result's own scores give it, builds run one
at a time from the current results, and a killed result writer leaves no lock or orphan behind.

Before: an AUC its scores did not give, an AUC of 1.7 ("170.00") and NaN (a blank cell) were
published; an edited scores file went unnoticed although its sha256 was recorded; a slow build
could finish last and publish a stale table; a kill while writing a result left its claim lock and
a scores file without a result for good.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from results_testutil import make_result, tiny_scores

from fsfm_bench.results import leaderboard as lb
from fsfm_bench.results import write_result


def _honest(out: Path, seed: int = 0, backbone: str = "fsfm") -> Path:
    scores = tiny_scores(seed=seed)
    bb = {"name": backbone, "distribution": "fsfm-bench", "version": "0.1.0"}
    return write_result(make_result(scores, seed=seed, backbone=bb, n_resamples=10), out, scores=scores)


def _edit(path: Path, change) -> None:
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


def _set(value):
    def change(result):
        result["results"]["CDFv2"]["frame"]["auc"]["value"] = value
    return change


@pytest.mark.parametrize("case,reason", [
    ("other value", "but its scores file"),
    ("1.7", "not a number in [0, 1]"),
    ("NaN", "not a number in [0, 1]"),
    ("edited scores", "changed after the result was written"),
    ("bad interval", "invalid interval"),
])
def test_a_result_its_scores_do_not_back_is_listed_not_published(tmp_path, case, reason):
    out = tmp_path / "results"
    good = _honest(out, seed=0)
    bad = _honest(out, seed=1, backbone="xception")
    if case == "other value":
        _edit(bad, _set(0.999))
    elif case == "1.7":
        _edit(bad, _set(1.7))
    elif case == "NaN":
        _edit(bad, _set(float("nan")))
    elif case == "bad interval":
        _edit(bad, lambda r: r["results"]["DFDC"]["video"]["eer"]["ci"].update(low=0.4, high=-0.2))
    else:
        scores = bad.with_name(json.loads(bad.read_text())["scores_file"])
        frame = pd.read_csv(scores)
        frame.loc[0, "score"] = 1 - frame.loc[0, "score"]
        frame.to_csv(scores, index=False, float_format="%.17g")
    report = lb.build(out, tmp_path / "lb", figures=False, reported=False)
    assert report.used == [good]
    assert [p for p, _ in report.skipped] == [bad]
    assert reason in report.skipped[0][1] and "\n" not in report.skipped[0][1]
    board = (tmp_path / "lb" / "cdfd_v1" / "leaderboard.md").read_text()
    assert "xception" not in board.split("## Skipped")[0] and "170.00" not in board
    index = (tmp_path / "lb" / "index.md").read_text()
    assert bad.name in index and reason in index


def test_honest_results_pass_verification(tmp_path):
    out = tmp_path / "results"
    paths = [_honest(out, seed=s) for s in (0, 1)]
    report = lb.build(out, tmp_path / "lb", figures=False, reported=False)
    assert sorted(report.used) == sorted(paths) and not report.skipped


def test_killed_result_writer_leaves_no_lock_or_orphan_scores(tmp_path):
    """A real kill (os._exit) after the scores file, before the result JSON: the next writer or
    build removes the dead writer's claim and its orphan scores."""
    out = tmp_path / "results"
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from results_testutil import make_result, tiny_scores
        from fsfm_bench.results import result as R
        real = R.atomic_write_json
        def dying(path, obj, *a, **k):
            os._exit(9)
        R.atomic_write_json = dying
        s = tiny_scores()
        R.write_result(make_result(s, n_resamples=0), {str(out)!r}, scores=s)
    """)
    proc = subprocess.run([sys.executable, "-c", code], timeout=120)
    assert proc.returncode == 9
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 2 and left[0].endswith(".json.lock") and left[1].endswith(".scores.csv"), left
    good = _honest(out, seed=3)
    assert sorted(out.iterdir()) == sorted([good, good.with_name(json.loads(good.read_text())["scores_file"])])


def test_concurrent_builds_are_serialised_and_the_last_one_sees_every_result(tmp_path, monkeypatch):
    """A slow build (A) started before a new result arrived and a quick one (B) after: B waits for
    A, then builds from the current results, so the published table holds the new result."""
    out, board = tmp_path / "results", tmp_path / "lb"
    _honest(out, seed=0)
    release, in_a = threading.Event(), threading.Event()
    real = lb.write_protocol

    def slow_first(*args, **kwargs):
        if threading.current_thread().name == "A":
            in_a.set()
            release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(lb, "write_protocol", slow_first)
    errors = []

    def build():
        try:
            lb.build(out, board, figures=False, reported=False)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    a = threading.Thread(target=build, name="A")
    a.start()
    assert in_a.wait(60)
    _honest(out, seed=1, backbone="xception")             # arrives while A is building
    b = threading.Thread(target=build, name="B")
    b.start()
    b.join(3)
    assert b.is_alive(), "the second build did not wait for the first"
    release.set()
    a.join(60)
    b.join(60)
    assert not errors
    assert "xception" in (board / "cdfd_v1" / "leaderboard.md").read_text()
    assert not (board / ".build.lock").exists()


def test_a_stale_build_lock_of_a_dead_process_is_taken_over(tmp_path):
    out, board = tmp_path / "results", tmp_path / "lb"
    _honest(out)
    board.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    (board / ".build.lock").write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                                   "created": time.time()}))
    lb.build(out, board, figures=False, reported=False)
    assert (board / "cdfd_v1" / "leaderboard.md").is_file() and not (board / ".build.lock").exists()
