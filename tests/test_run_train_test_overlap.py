"""Training on a protocol's test images is refused, or (explicitly allowed) published under a
protocol id of its own: before, ``protocol.train=[{dataset: demo, split: test}]`` published a row
under the protocol's name."""
from __future__ import annotations

import json

import pytest
from run_testutil import make_prepared, synth_config

from fsfm_bench.errors import UsageError
from fsfm_bench.protocols.run import run
from fsfm_bench.results import leaderboard as lb


def test_training_on_the_test_split_is_refused_then_labelled_when_allowed(tmp_path):
    data = make_prepared(tmp_path / "data", splits=(("train", 2), ("val", 2), ("test", 2)), frames=2)
    cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
    cfg["protocol"]["train"] = [{"dataset": "synth", "split": "test"}]
    with pytest.raises(UsageError) as info:
        run(cfg, log=lambda s: None, progress=False)
    message = str(info.value)
    assert "\n" not in message and "8 images of target unseen" in message and "allow_train_test_overlap=true" in message
    assert not (tmp_path / "results").exists() and not list((tmp_path / "runs").rglob("*.pth"))

    cfg["allow_train_test_overlap"] = True
    [outcome] = run(cfg, log=lambda s: None, progress=False)
    result = json.loads(outcome.result_path.read_text())
    assert result["protocol"]["id"] == "demo.train-test-overlap" and result["protocol"]["version"] == 1
    report = lb.build(tmp_path / "results", tmp_path / "lb", figures=False, reported=False)
    assert list(report.protocols) == ["demo.train-test-overlap@1"] and not report.skipped
