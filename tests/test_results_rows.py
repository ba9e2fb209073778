"""Leaderboard row identity: recipes never supersede each other, every format keeps the same rows,
reported baselines join the registered backbone names, and the header counts superseded reruns."""
import json

import pandas as pd
import pytest
from results_testutil import make_result, metric_entry, tiny_scores

from fsfm_bench.io import sha256_json
from fsfm_bench.results import leaderboard as lb
from fsfm_bench.results import write_result


@pytest.fixture(autouse=True)
def _hand_set_numbers(monkeypatch):
    """These fixtures hand-set metric values (beside unrelated scores) to test the tables' layout:
    only their ranges are checked here; verification against the scores is tested in
    tests/test_results_verify.py."""
    from fsfm_bench.results import verify

    monkeypatch.setattr(verify, "scores_problem", lambda result, path: None)

TARGETS = ("CDFv2", "DFDC", "DFDCp", "WDF")
DEFAULT = {"finetune": {"blr": 0.00025, "epochs": 10, "batch_size": 32, "layer_decay": 0.65},
           "eval": {"device": "auto", "num_workers": 8}, "work_dir": "runs", "seeds": [0]}


def _block(cdf: float, rest: float = 0.8) -> dict:
    vals = {t: (cdf if t == "CDFv2" else rest) for t in TARGETS}
    return {t: {"video": {"auc": metric_entry(v, 50)}, "frame": {"auc": metric_entry(v, 1600)}}
            for t, v in vals.items()}


def _result(cdf: float, *, seed: int = 0, config: dict | None = None, created: str | None = None,
            sha: str | None = None, backbone: dict | None = None, **kw) -> dict:
    res = make_result(results=_block(cdf), seed=seed, backbone=backbone, **kw)
    if config is not None:
        res["config"] = config
        res["config_hash"] = sha256_json(config)
    if created:
        res["created_at"] = created
    if sha:
        res["checkpoint"]["sha256"] = sha
    return res


def _with(config: dict, **changes) -> dict:
    """A copy of ``config`` with dotted keys changed (``finetune__blr=0.5``)."""
    out = json.loads(json.dumps(config))
    for dotted, value in changes.items():
        node = out
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _section(board, gran="frame") -> str:
    return (board / "cdfd_v1" / "leaderboard.md").read_text().split(f"## {gran}-level AUC")[1].split("##")[0]


def _write(results, out):
    scores = tiny_scores(targets=TARGETS)
    for r in results:
        write_result(r, out, scores=scores)


def test_tuned_rerun_of_same_seed_is_its_own_labelled_row(tmp_path):
    """Same backbone, init and seed but another recipe: a second row saying how it differs; the
    default recipe's seeds still merge (runs launched separately differ in seeds/work_dir/device)."""
    tuned = _with(DEFAULT, finetune__blr=0.5, finetune__epochs=20)
    seed1 = _with(DEFAULT, seeds=[1], work_dir="runs/other", eval__device="cuda", eval__num_workers=2)
    _write([_result(0.60, config=DEFAULT, created="2026-01-01T00:00:00Z"),
            _result(0.70, config=DEFAULT, created="2026-01-02T00:00:00Z"),      # true rerun: supersedes 0.60
            _result(0.80, seed=1, config=seed1, created="2026-01-03T00:00:00Z"),
            _result(0.99, config=tuned, created="2026-01-04T00:00:00Z")], tmp_path / "res")
    board = tmp_path / "lb"
    lb.build(tmp_path / "res", board, figures=False, reported=False)
    rows = [line for line in _section(board).splitlines() if line.startswith("| fsfm | reproduced")]
    assert len(rows) == 2, rows
    default = next(r for r in rows if "finetune.blr" not in r)
    tuned_row = next(r for r in rows if "finetune.blr" in r)
    assert "| 75.00 ± 5.00 (n=2) |" in default                        # seeds 0 (70, the rerun) and 1 (80)
    assert f"config {sha256_json(tuned)[:8]}: finetune.blr=0.5, finetune.epochs=20" in tuned_row
    assert "| source_val | 99.00 | 80.00 |" in tuned_row and "n=2" not in tuned_row
    assert f"config {sha256_json(DEFAULT)[:8]}" in default
    csv = pd.read_csv(board / "cdfd_v1" / "leaderboard.csv")
    cdf = csv[(csv.target == "CDFv2") & (csv.granularity == "frame")]
    assert sorted(cdf["auc"]) == [pytest.approx(75.0), pytest.approx(99.0)]
    md = (board / "cdfd_v1" / "leaderboard.md").read_text()
    assert "Results used: 3 (1 superseded by same-seed reruns)." in md
    data = json.loads((board / "cdfd_v1" / "leaderboard.json").read_text())
    assert data["n_results"] == 3 and data["n_superseded"] == 1


def test_config_diff_is_capped_at_three_keys(tmp_path):
    many = _with(DEFAULT, finetune__blr=0.5, finetune__epochs=20, finetune__batch_size=64,
                 finetune__layer_decay=0.75)
    _write([_result(0.7, config=DEFAULT), _result(0.7, config=DEFAULT, seed=1),
            _result(0.9, config=many)], tmp_path / "res")
    lb.build(tmp_path / "res", tmp_path / "lb", figures=False, reported=False)
    row = next(line for line in _section(tmp_path / "lb").splitlines() if "finetune.blr" in line)
    assert "finetune.batch_size=64, finetune.blr=0.5, finetune.epochs=20, …" in row
    assert "layer_decay" not in row


def test_every_format_keeps_rows_that_differ_only_in_init_checkpoint(tmp_path):
    _write([_result(0.70, sha="a" * 64), _result(0.90, sha="b" * 64)], tmp_path / "res")
    board = tmp_path / "lb"
    lb.build(tmp_path / "res", board, reported=False)
    csv = pd.read_csv(board / "cdfd_v1" / "leaderboard.csv")
    cdf = csv[(csv.target == "CDFv2") & (csv.granularity == "video")]
    assert len(cdf) == 2
    by_sha = dict(zip(cdf.checkpoint_sha256, cdf.auc, strict=True))
    assert by_sha == {"a" * 64: pytest.approx(70.0), "b" * 64: pytest.approx(90.0)}
    assert cdf.group_id.nunique() == 2
    md_rows = [line for line in _section(board, "video").splitlines() if line.startswith("| fsfm | reproduced")]
    assert sorted(r.split("|")[4].strip().split(" ")[0] for r in md_rows) == ["70.00", "90.00"]
    tex = (board / "cdfd_v1" / "leaderboard.tex").read_text()
    assert "init aaaaaaaa" in tex and "init bbbbbbbb" in tex
    html = (board / "cdfd_v1" / "leaderboard.html").read_text()
    assert "init aaaaaaaa" in html and "init bbbbbbbb" in html
    data = json.loads((board / "cdfd_v1" / "leaderboard.json").read_text())
    json_rows = {r["checkpoint_sha256"]: r["value"] for r in data["rows"]
                 if r["target"] == "CDFv2" and r["granularity"] == "video"}
    assert json_rows == {"a" * 64: pytest.approx(70.0), "b" * 64: pytest.approx(90.0)}
    # the figures tell them apart too: one bar per group, not a bar averaging both models
    figs = {p.name for p in (board / "cdfd_v1" / "figures").glob("*.png")}
    assert "bars_video_auc.png" in figs
    names = lb.row_names(lb.merge_seeds(lb.collect(tmp_path / "res")[0]))
    assert names.nunique() == 2


@pytest.mark.parametrize("name,reported_cdf", [("xception", 69.52), ("efficientnet_b4", 73.37),
                                               ("vit_scratch", 61.14)])
def test_registered_baselines_get_a_delta_against_their_reported_row(tmp_path, name, reported_cdf):
    backbone = {"name": name, "distribution": "fsfm-bench", "version": "0.1.0", "plugin": "backbones"}
    _write([_result(0.70, backbone=backbone)], tmp_path / "res")
    board = tmp_path / "lb"
    lb.build(tmp_path / "res", board, figures=False)
    frame = _section(board)
    assert f"| {name} | Δ reproduced − reported |  | {70 - reported_cdf:+.2f} |" in frame
    assert f"| {name} | reported (from-authors-page: " in frame
    csv = pd.read_csv(board / "cdfd_v1" / "leaderboard.csv")
    row = csv[(csv.kind == "reproduced") & (csv.backbone == name) & (csv.target == "CDFv2")
              & (csv.granularity == "frame")].iloc[0]
    assert row["auc_reported"] == pytest.approx(reported_cdf)
    assert row["auc_diff"] == pytest.approx(70 - reported_cdf)


def test_reported_rows_name_registered_backbones():
    from fsfm_bench.plugins import entries
    from fsfm_bench.results.reported import load_reported, reported_cells

    registered = {e.name for e in entries("backbones")}
    for doc in load_reported().values():
        for cell in reported_cells(doc):
            if not cell["backbone"].startswith("("):          # "(SBIs)": not a backbone
                assert cell["backbone"].split("/")[0] in registered, cell
    cdfd = load_reported()["cdfd@1"]
    names = {r["paper_name"]: r["backbone"] for r in cdfd["rows"]}
    assert names["Xception"] == "xception" and names["EfficientNet-B4"] == "efficientnet_b4"
    assert names["ViT-B (Scratch)"] == "vit_scratch" and names["ViT-B"] == "supervised"


def test_results_on_other_data_are_not_seeds_of_one_row(tmp_path):
    """Same recipe and init, but one result scored another release of a target (its manifest hash
    differs): two rows, each naming its data, instead of a mean over different test sets."""
    a0, a1, other = _result(0.70, seed=0), _result(0.80, seed=1), _result(0.90, seed=2)
    key = next(k for k in other["data"] if k.startswith("test/"))
    other["data"][key]["manifest_hash"] = "f" * 64
    _write([a0, a1, other], tmp_path / "res")
    lb.build(tmp_path / "res", tmp_path / "lb", figures=False, reported=False)
    rows = [line for line in _section(tmp_path / "lb").splitlines() if line.startswith("| fsfm | reproduced")]
    assert len(rows) == 2, rows
    assert sum("(n=2)" in r for r in rows) == 1 and all("(data " in r for r in rows)
    assert {lb.data_fingerprint(a0), lb.data_fingerprint(other)} == {r.split("(data ")[1][:8] for r in rows}
