"""``perturb=`` end to end on the demo protocol's shape (synthetic faces, tiny backbone): an eval of a
fine-tuned checkpoint writes the robustness block, its scores and the leaderboard's robustness
table and figure; a rerun forwards nothing; ``rescore`` recomputes every condition."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from run_testutil import make_prepared, synth_config
from sklearn.metrics import roc_auc_score

from fsfm_bench.cli import main
from fsfm_bench.protocols.evaluate import evaluate
from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result, read_scores
from fsfm_bench.results.robustness import robustness_scores_path

PERTURB = "CS:5,BW:1,GB:1-2,VC:3"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robust")
    cfg = synth_config(tmp, make_prepared(tmp / "data"), epochs=4)
    (outcome,) = run(cfg, log=lambda _: None, progress=False)
    return tmp, cfg, outcome


def test_eval_with_perturb_writes_robustness_rows_table_and_figure(trained, capsys):
    tmp, cfg, plain = trained
    cfg = copy.deepcopy(cfg)
    cfg["perturb"] = PERTURB
    cfg["leaderboard"].update(rebuild=True, figures=True)
    logs: list[str] = []
    (outcome,) = evaluate(cfg, str(plain.checkpoint), seed=0, log=logs.append)
    result = read_result(outcome.result_path)
    assert result["schema_version"] == "1.2"
    # the clean block is the plain run's, number for number: perturbing never touches it
    assert result["results"]["unseen"]["frame"]["auc"]["value"] == plain.results["unseen"]["frame"]["auc"]["value"]
    conds = result["robustness"]["conditions"]
    assert [(c["perturbation"], c["level"]) for c in conds] == [("CS", 5), ("BW", 1), ("GB", 1), ("GB", 2), ("VC", 3)]
    assert [c["param"] for c in conds] == [0.0, 16, 7, 9, 35]
    assert all(c["plugin"]["distribution"] == "fsfm-bench" for c in conds)
    rob = robustness_scores_path(result, outcome.result_path)
    lines = rob.read_text().splitlines()
    assert lines[0].endswith("perturbation,level") and len(lines) == 1 + 24 * len(conds)
    # every condition's AUC is its own perturbed scores' AUC, and they are not the clean scores
    table = read_scores(rob)
    clean = read_scores(outcome.result_path.parent / result["scores_file"])
    clean = clean[clean["split"] == "test"].set_index("path")["score"]
    for cond in conds:
        part = table[(table["perturbation"] == cond["perturbation"]) & (table["level"] == cond["level"])]
        assert len(part) == 24
        auc = cond["results"]["unseen"]["frame"]["auc"]["value"]
        assert auc == pytest.approx(roc_auc_score(part["label"], part["score"]), abs=1e-12)
        assert not np.allclose(part.set_index("path")["score"].loc[clean.index], clean), cond
    grey_auc = conds[0]["results"]["unseen"]["frame"]["auc"]["value"]
    # 24 target frames per condition were scored now, the clean ones came from the run's cache
    assert outcome.forwarded == 24 * len(conds) and outcome.total == 24 * (1 + len(conds))
    board = (tmp / "leaderboards" / "demo_v1" / "leaderboard.md").read_text()
    assert "Robustness: frame-level AUC" in board and "| CS " in board and "| VC " in board
    row = next(line for line in board.splitlines() if line.startswith("| tiny_vit") or "unseen" in line
               and "Robustness" not in line and line.count("|") > 8)
    assert f"{100 * grey_auc:.2f}" in row
    assert (tmp / "leaderboards" / "demo_v1" / "figures" / "robustness_frame_auc.png").is_file()

    again: list[str] = []
    (second,) = evaluate(copy.deepcopy(cfg), str(plain.checkpoint), seed=0, log=again.append)
    assert second.forwarded == 0                      # every condition from the score cache
    assert read_result(second.result_path)["robustness"]["conditions"] == conds

    # rescore recomputes the conditions from the saved scores, under other conventions too
    out = tmp / "rescored"
    assert main(["rescore", str(outcome.result_path), "threshold_source=target_eer", "bootstrap=0",
                 f"out={out}"]) == 0
    printed = capsys.readouterr().out
    assert "CS:5" in printed and "VC:3" in printed
    (new_path,) = out.glob("result_*.json")
    new = read_result(new_path)
    new_conds = new["robustness"]["conditions"]
    assert [c["results"]["unseen"]["frame"]["auc"]["value"] for c in new_conds] == \
        [c["results"]["unseen"]["frame"]["auc"]["value"] for c in conds]
    assert new_conds[0]["results"]["unseen"]["frame"]["balanced_acc"]["threshold_source"] == "target_eer"
    assert robustness_scores_path(new, new_path) == rob


def test_old_results_without_robustness_still_read_and_build(trained):
    tmp, cfg, plain = trained
    result = json.loads(plain.result_path.read_text())
    assert "robustness" not in result
    result["schema_version"] = "1.1"                 # as written before robustness existed
    old = tmp / "old" / plain.result_path.name
    old.parent.mkdir()
    old.write_text(json.dumps(result))
    (old.parent / result["scores_file"]).write_bytes((plain.result_path.parent / result["scores_file"]).read_bytes())
    assert read_result(old)["results"] == result["results"]
    from fsfm_bench.results.leaderboard import build

    report = build(old.parent, tmp / "old_boards", figures=False, reported=False)
    assert not report.skipped and "Robustness" not in (tmp / "old_boards" / "demo_v1" / "leaderboard.md").read_text()


@pytest.mark.parametrize("n_rows, n_targets", [(1, 1), (2, 2)])
def test_robustness_figure_keeps_every_text_on_its_canvas(tmp_path, monkeypatch, n_rows, n_targets):
    """The figure passes the leaderboard figures' layout check (tests/test_results_figures.py)."""
    import pandas as pd
    from matplotlib.figure import Figure
    from test_results_figures import _check_layout

    from fsfm_bench.results.robustness import _figures

    checked, original = [], Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        _check_layout(self, fname.name)
        checked.append(fname.name)
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    rows = ["fsfm (demo@1 source-val selection)",
            "a_third_party_backbone_with_a_long_name (cdfd@1 source-val selection)"][:n_rows]
    targets = ["CDFv2", "WildDeepfake_long_target_name"][:n_targets]
    long = pd.DataFrame([{"group_id": str(g), "row": row, "seed": 0, "target": t, "granularity": "video",
                          "family": fam, "level": level, "value": 80.0 - 3 * level + g}
                         for g, row in enumerate(rows) for t in targets
                         for fam, levels in [("clean", [0])] + [(f, range(1, 6)) for f in ("CS", "GB", "VC")]
                         for level in levels])
    made = _figures(long, tmp_path)
    assert [p.name for p in made] == checked == ["robustness_video_auc.png"]
