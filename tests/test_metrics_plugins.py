"""Metrics are plugins: a registered MetricSpec is computed, validated, bootstrapped and tabled by
name, like the built-ins. Proven with the example plugin (examples/plugin-template), whose metric
fpr_at_tpr95 and protocol example_demo go through `fsfm-bench run` into the result and the board."""
from __future__ import annotations

import json

import pytest

from fsfm_bench import metrics as M
from fsfm_bench.errors import UsageError

example = pytest.importorskip("fsfm_bench_example.metrics", reason="examples/plugin-template is not installed")

# reals 0.1 0.2 0.6 0.8, fakes 0.3 0.7 0.9 0.95: catching every fake (TPR 1 >= 0.95) needs a threshold
# <= 0.3, where the reals 0.6 and 0.8 are rejected too: FPR = 2/4
Y = [0, 0, 0, 0, 1, 1, 1, 1]
S = [0.1, 0.2, 0.6, 0.8, 0.3, 0.7, 0.9, 0.95]


def test_fpr_at_tpr95_by_hand():
    assert example.fpr_at_tpr95(Y, S) == 0.5
    assert example.fpr_at_tpr95([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 0.0    # separable: no false alarm
    assert example.fpr_at_tpr95([0, 0, 1, 1], [0.3, 0.4, 0.1, 0.2]) == 1.0    # inverted: every real rejected


def test_the_registry_drives_compute_and_titles():
    from fsfm_bench.results.compute import compute_metrics
    from fsfm_bench.results.tables import metric_order, metric_title

    spec = M.metric_spec("fpr_at_tpr95")
    assert spec.fn is example.fpr_at_tpr95 and not spec.higher_is_better
    scores = {"target": ["t"] * 8, "split": ["test"] * 8, "label": Y, "score": S,
              "video_id": [f"v{i}" for i in range(8)], "path": [f"{i}.png" for i in range(8)]}
    out = compute_metrics(scores, ["auc", "fpr_at_tpr95"], granularities=("frame",), n_resamples=50)
    entry = out["t"]["frame"]["fpr_at_tpr95"]
    assert entry["value"] == 0.5 and entry["higher_is_better"] is False
    assert 0.0 <= entry["ci"]["low"] <= entry["ci"]["high"] <= 1.0          # the bootstrap's loop path
    assert metric_title("fpr_at_tpr95") == "FPR@TPR=95% ↓ (%)"
    # the built-ins keep their order and titles, now read from their specs
    assert metric_title("tpr_at_fpr_live@0.01") == "TPR@FPR (live positive)=1% ↑ (%)"
    assert metric_title("eer") == "EER ↓ (%)"
    assert metric_order(["fpr_at_tpr95", "tpr_at_fpr@0.01", "eer", "auc", "nobody_registers_me"]) == [
        "auc", "eer", "tpr_at_fpr@0.01", "nobody_registers_me", "fpr_at_tpr95"]


def test_protocol_metrics_are_checked_against_the_registry():
    from fsfm_bench.plugins import get

    data = get("protocols", "example_demo").default_config()
    data["metrics"] = ["auc", "fpr_at_tpr59"]
    from fsfm_bench.protocols.spec import Protocol

    with pytest.raises(UsageError, match=r"protocol example_demo@1: unknown metric 'fpr_at_tpr59'\. Did you mean: fpr_at_tpr95"):
        Protocol.from_dict(data)
    data["metrics"] = ["fpr_at_tpr95@0.9"]
    with pytest.raises(UsageError, match="takes no parameter"):
        Protocol.from_dict(data)


def test_a_plugin_metric_must_be_a_metric_spec(plugin_sandbox):
    plugin_sandbox.add("bad-metric", "from fsfm_bench.hookspecs import hookimpl\n"
                       "fsfm_bench_api = '>=1,<2'\n"
                       "@hookimpl\n"
                       "def register_metrics(register):\n"
                       "    register('bare_fn', lambda labels, scores: 0.0)\n")
    with pytest.warns(RuntimeWarning, match="bad-metric"):
        infos = plugin_sandbox.load()
    # refused when it registers (fsfm_bench.contracts), one line naming the plugin; nothing half-registered
    error = next(i for i in infos if i.name == "bad-metric").error
    assert error == ("failed to register: ContractError: metric 'bare_fn' (plugin 'bad-metric') breaks the metric "
                     "contract: registered a function, not a fsfm_bench.metrics.MetricSpec. See docs/plugins.md, "
                     "\"Metrics\", and fsfm_bench.contracts.")
    with pytest.raises(UsageError, match="unknown metric 'bare_fn'"):
        M.metric_spec("bare_fn")


def test_example_protocol_runs_with_the_plugin_metric(tmp_path, capsys):
    from fsfm_bench.cli import main
    from fsfm_bench.results import read_result
    from fsfm_bench.schemas import validate

    args = ["run", "protocol=example_demo", "backbone=example_vit", f"data.cache_dir={tmp_path / 'cache'}",
            f"work_dir={tmp_path / 'runs'}", f"leaderboard.results_dir={tmp_path / 'results'}",
            f"leaderboard.dir={tmp_path / 'leaderboards'}", "leaderboard.figures=false",
            "finetune.epochs=2", "eval.bootstrap=20", "--quiet"]
    assert main(args) == 0
    assert "fpr_at_tpr95" in capsys.readouterr().out
    (path,) = (tmp_path / "results").glob("result_example_demo-v1_example_vit_*.json")
    result = read_result(path)
    validate(result, "result", str(path))
    assert result["protocol"]["metrics"] == ["auc", "fpr_at_tpr95"]
    for gran in ("frame", "video"):
        entry = result["results"]["unseen"][gran]["fpr_at_tpr95"]
        assert 0.0 <= entry["value"] <= 1.0 and entry["higher_is_better"] is False
        assert entry["ci"]["n_resamples"] == 20
    board = (tmp_path / "leaderboards" / "example_demo_v1" / "leaderboard.md").read_text()
    assert "## frame-level FPR@TPR=95% ↓ (%)" in board and "## video-level FPR@TPR=95% ↓ (%)" in board
    # the protocol's own recipe (protocols/recipes/finetune_example.yaml: blr 4e-2; the core's demo: 5e-2)
    assert result["config"]["recipe_name"] == "recipes/finetune_example" and result["config"]["finetune"]["blr"] == 0.04
    assert result["protocol"]["task"] == "forgery_screening"     # its own task, whose default metrics these are
    # its own reported rows (protocols/reported/example_demo.yaml), as reported rows, apart from the run's
    rows = json.loads((tmp_path / "leaderboards" / "example_demo_v1" / "leaderboard.json").read_text())["rows"]
    assert {(r["backbone"], r["metric"], r["value"]) for r in rows if r["kind"] == "reported"} == {
        ("(Chance level)", "auc", 50.0), ("(Chance level)", "fpr_at_tpr95", 95.0)}
    assert {r["kind"] for r in rows if r["backbone"].startswith("example_vit")} == {"reproduced"}
    assert "reported rows from `fsfm_bench_example/protocols/reported/example_demo.yaml`" in board
    assert "reported (from-secondary-note: Chance level" in board
