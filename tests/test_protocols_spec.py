"""Protocols as versioned data: registration, schema, variants, shortcuts, data roots, the
missing-dataset message, row selection and the selection policies' choice from a history."""
from __future__ import annotations

import copy

import pytest

from fsfm_bench.config import compose
from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.finetune.selection import choose
from fsfm_bench.plugins import get
from fsfm_bench.protocols import Protocol, Source
from fsfm_bench.protocols.data import DataResolver, dataset_root, holdout_split, subsample_frames
from fsfm_bench.protocols.plan import resolve_protocols
from fsfm_bench.protocols.run import run


def test_builtin_protocols_are_registered_versioned_and_linked_to_reported_numbers():
    names = ("cdfd@1", "cdfas@1", "diff@1", "demo")
    refs = {name: [p.ref for p in get("protocols", name).resolve()] for name in names}
    assert refs == {"cdfd@1": ["cdfd@1"], "cdfas@1": ["cdfas@1/M", "cdfas@1/C", "cdfas@1/I", "cdfas@1/O"],
                    "diff@1": ["diff@1"], "demo": ["demo@2"]}
    # the plain name is the newest version (docs/protocol-fidelity.md); every version stays runnable
    assert [p.ref for p in get("protocols", "cdfd").resolve()] == ["cdfd@2"]
    assert get("protocols", "diff_fsvfm").resolve()[0].ref == "diff_fsvfm@1"
    cdfd = get("protocols", "cdfd@1").resolve()[0]
    assert [t.name for t in cdfd.targets] == ["CDFv2", "DFDC", "DFDCp", "WDF", "DFD", "CDFv1"]
    assert [t.optional for t in cdfd.targets] == [False] * 4 + [True] * 2
    assert cdfd.train[0].frames_for(0) == 128 and cdfd.train[0].frames_for(1) == 32
    assert cdfd.targets[0].frames_for(1) == 32 and cdfd.policy == "source_val"
    assert cdfd.granularity == ("frame", "video")
    fas = {p.variant: p for p in get("protocols", "cdfas@1").resolve()}
    assert fas["O"].targets[0].dataset == "oulu_npu"
    assert {s.dataset for s in fas["O"].train} == {"replay_attack", "casia_fasd", "msu_mfsd", "celeba_spoof"}
    assert fas["M"].seeds == (0, 1, 2, 3, 4) and fas["M"].validation == 0.1
    assert fas["M"].threshold == "source_val_eer" and "tpr_at_fpr@0.01" in fas["M"].metrics
    diff = get("protocols", "diff@1").resolve()[0]
    assert [t.manipulations for t in diff.targets] == [("real", "T2I"), ("real", "I2I"), ("real", "FS"), ("real", "FE")]
    assert diff.granularity == ("image",)


def test_each_paper_protocol_links_its_reported_numbers():
    import yaml
    from conftest import REPO

    for name in ("cdfd", "cdfas", "diff"):
        proto = get("protocols", name).resolve()[0]
        doc = yaml.safe_load((REPO / proto.reported).read_text())
        assert doc["protocol"] == f"{proto.id}@{proto.version}"
        targets = [t.name for p in get("protocols", name).resolve() for t in p.targets if not t.optional]
        assert doc["targets"] == targets
    assert get("protocols", "demo").resolve()[0].reported is None


def test_schema_rejects_a_broken_protocol_with_a_clear_message():
    data = copy.deepcopy(get("protocols", "demo").data)
    data["selection"]["policy"] = "best_on_test"
    with pytest.raises(FsfmBenchError, match="selection/policy"):
        Protocol.from_dict(data)
    data = copy.deepcopy(get("protocols", "demo").data)
    del data["targets"]
    with pytest.raises(FsfmBenchError, match="targets"):
        Protocol.from_dict(data)


def test_run_shortcuts_variant_selection_threshold_and_seeds():
    cfg = compose(protocol="cdfas@1", overrides={"target": "I", "selection": "target_oracle", "seeds": [3, 4]}).to_dict()
    (proto,) = resolve_protocols(cfg)
    assert proto.ref == "cdfas@1/I" and proto.policy == "target_oracle"
    assert proto.threshold == "target_eer"             # the MCIO oracle threshold comes with the oracle
    assert "TARGET-ORACLE" in proto.policy_label and proto.seeds == (3, 4)
    cfg = compose(protocol="cdfas", overrides={"target": "Q"}).to_dict()
    with pytest.raises(UsageError, match="no variant 'Q'"):
        resolve_protocols(cfg)
    cfg = compose(protocol="cdfd", overrides={"selection": "best"}).to_dict()
    with pytest.raises(UsageError, match="source_val, last, target_oracle"):
        resolve_protocols(cfg)


def test_a_missing_dataset_is_one_message_and_nothing_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    for name in ("ffpp", "celebdf_v2", "dfdc", "dfdc_preview", "wilddeepfake"):
        monkeypatch.delenv(f"FSFM_BENCH_ROOT_{name.upper()}", raising=False)
    cfg = compose(protocol="cdfd", backbone="fsfm",
                  overrides={"work_dir": str(tmp_path / "runs"), "data.cache_dir": str(tmp_path / "cache"),
                             "data.roots.celebdf_v2": str(tmp_path)}).to_dict()
    with pytest.raises(FsfmBenchError) as info:
        run(cfg, log=lambda s: None)
    msg = str(info.value)
    assert "cannot start, nothing was trained" in msg
    assert "dataset 'ffpp'" in msg and "training source" in msg
    assert "fsfm-bench data verify dataset=ffpp root=PATH" in msg and "data.roots.ffpp=PATH" in msg
    assert "original_sequences" in msg                   # the expected layout, from the dataset card
    assert "dataset 'dfdc'" in msg and "'celebdf_v2'" not in msg   # configured ones are not listed
    assert "'dfd'" not in msg                            # optional targets are skipped, not required
    lines = msg.splitlines()                             # one error, one dataset per line
    assert len(lines) == 1 + 4 + 1 and lines[0].endswith("4 datasets have no usable root.")
    assert [line.split("'")[1] for line in lines[1:-1]] == ["ffpp", "dfdc", "dfdc_preview", "wilddeepfake"]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache").exists()
    # a root that is set but points nowhere is named too (not discovered only after the others)
    cfg["data"]["roots"]["ffpp"] = str(tmp_path / "typo")
    with pytest.raises(FsfmBenchError) as info:
        run(cfg, log=lambda s: None)
    assert f"the root {tmp_path / 'typo'} from data.roots.ffpp is not a folder" in str(info.value)
    assert str(info.value).count("dataset 'ffpp'") == 1


def test_roots_come_from_config_then_environment_then_the_user_file(tmp_path, monkeypatch):
    user = tmp_path / "datasets.yaml"
    user.write_text("roots:\n  ffpp: /from/file\n  dfdc: /dfdc/file\n")
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(user))
    monkeypatch.setenv("FSFM_BENCH_ROOT_FFPP", "/from/env")
    cfg = {"data": {"roots": {"ffpp": "/from/config"}}}
    assert dataset_root("ffpp", cfg) == ("/from/config", "data.roots.ffpp")
    assert dataset_root("ffpp", {"data": {"roots": {}}}) == ("/from/env", "FSFM_BENCH_ROOT_FFPP")
    assert dataset_root("dfdc", cfg) == ("/dfdc/file", str(user))
    assert dataset_root("wilddeepfake", cfg) == (None, "")
    assert DataResolver(cfg).available("demo")           # bundled: needs no root


def test_frames_per_video_are_subsampled_uniformly_per_label_and_holdout_is_by_video():
    rows = [{"path": f"{v}/{i}.png", "video_id": v, "label": label, "frame_index": i, "source": "s"}
            for v, label in (("r", 0), ("f", 1)) for i in range(10)]
    kept = subsample_frames(rows, Source("s", "train", frames_per_video={"real": 4, "fake": 2}))
    assert [r["frame_index"] for r in kept if r["video_id"] == "r"] == [0, 3, 6, 9]
    assert [r["frame_index"] for r in kept if r["video_id"] == "f"] == [0, 9]
    many = [{"video_id": f"v{k}", "label": k % 2, "source": "s", "path": f"{k}"} for k in range(400)]
    train, val = holdout_split(many, 0.1)
    assert 20 <= len(val) <= 60 and len(train) + len(val) == 400
    assert holdout_split(many, 0.1)[1] == val            # deterministic
    assert not {r["video_id"] for r in train} & {r["video_id"] for r in val}


def test_policies_choose_from_the_history():
    history = [{"epoch": e, "iter": 10 * e, "metrics": {"source_val/loss": loss, "target/auc": auc, "target/hter": h}}
               for e, loss, auc, h in ((1, 0.6, 0.9, 0.1), (2, 0.4, 0.8, 0.2), (3, 0.4, 0.7, 0.05), (4, 0.5, 0.6, 0.3))]
    assert choose(history, "source_val")["epoch"] == 2     # lowest loss, earliest on ties
    assert choose(history, "last")["epoch"] == 4
    assert choose(history, "target_oracle", "auc")["epoch"] == 1
    assert choose(history, "target_oracle", "hter")["epoch"] == 3
    assert choose([], "last") is None
