"""Bad input on the finished commands: one clear line on stderr, exit 2 (usage) or 1 (runtime), no
traceback, nothing lost or half-written. One regression test per defect found in the QA audit."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fsfm_bench.cli import main


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_clear_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("fsfm-bench: error: ") and "Traceback" not in err
    return lines[0]


# --- top level -----------------------------------------------------------------------------------
def test_top_level_help_reads_as_a_sentence(capsys):
    code, out, _ = _run(["--help"], capsys)
    assert code == 0
    assert "``" not in out and "Benchmark face security foundation models" in out
    assert "fsfm-bench COMMAND --help" in out


@pytest.mark.parametrize("argv, missing", [(["rescore"], "result"), (["leaderboard"], "action"),
                                            (["data"], "action"), (["ls"], "kind")])
def test_missing_argument_names_only_what_is_required(argv, missing, capsys):
    code, _, err = _run(argv, capsys)
    assert code == 2
    line = _one_clear_line(err)
    assert line.endswith(f"the following arguments are required: {missing}. See `fsfm-bench {argv[0]} --help`.")


def test_options_may_sit_between_key_value_words(capsys):
    """`run protocol=demo backbone=fsfm --print-config seeds=0,1` once failed with 'unrecognized
    arguments: seeds=0,1' because argparse stops collecting positionals at the first option."""
    code, out, err = _run(["run", "protocol=demo", "backbone=fsfm", "--print-config", "seeds=0,1"], capsys)
    assert code == 0, err
    assert "seeds:\n- 0\n- 1\n" in out


def test_print_config_only_where_a_config_is_composed(capsys):
    """`--print-config data verify ...` used to run the verification; `config` alone printed {}."""
    code, out, err = _run(["--print-config", "data", "verify", "dataset=demo"], capsys)
    assert code == 2 and out == ""
    assert "`data` has none, so nothing was run" in _one_clear_line(err)
    code, out, err = _run(["config"], capsys)
    assert code == 2 and "protocol=P and/or backbone=B" in _one_clear_line(err) and out == ""


def test_closed_pipe_stops_quietly(monkeypatch, capsys):
    """`fsfm-bench ls backbones | head -1`: no BrokenPipeError traceback, exit 141 like `ls | head`."""
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["ls", "backbones"]) == 141
    assert capsys.readouterr().err == ""


# --- weights --------------------------------------------------------------------------------------
def test_weights_verify_junk_file_is_a_failed_check_not_a_traceback(tmp_path, capsys):
    junk = tmp_path / "model.pth"
    junk.write_bytes(b"junk\n")          # the weights-only unpickler raises KeyError on this
    code, out, err = _run(["weights", "verify", str(junk)], capsys)
    assert code == 1 and "Traceback" not in err
    assert "FAIL safe load" in out and "truncated or not a checkpoint" in out
    assert out.rstrip().endswith(f"NOT verified: {junk}")


def test_weights_verify_trust_must_be_a_boolean(tmp_path, capsys):
    junk = tmp_path / "model.pth"
    junk.write_bytes(b"junk\n")
    code, _, err = _run(["weights", "verify", str(junk), "trust_checkpoint=maybe"], capsys)
    assert code == 2
    assert "trust_checkpoint must be true or false, got 'maybe'" in _one_clear_line(err)


def test_weights_list_unknown_backbone_suggests_one(capsys):
    code, out, err = _run(["weights", "list", "backbone=fsf"], capsys)
    assert code == 2 and out == ""
    line = _one_clear_line(err)
    assert "no checkpoint card for backbone 'fsf'" in line and "fsfm" in line


def test_weights_verify_of_a_card_name_says_how_to_verify_a_file(capsys):
    from fsfm_bench.checkpoints import list_cards

    name = list_cards()[0].name
    code, _, err = _run(["weights", "verify", name], capsys)
    assert code == 2
    assert f"weights verify PATH card={name}" in _one_clear_line(err)


def test_hf_unreachable_is_not_reported_as_missing_file(monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    from fsfm_bench.checkpoints import sources
    from fsfm_bench.errors import FsfmBenchError

    def no_network(*args, **kwargs):
        raise LocalEntryNotFoundError("no connection")

    monkeypatch.setattr(sources, "offline", lambda: False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    with pytest.raises(FsfmBenchError, match="could not reach the Hugging Face Hub") as info:
        sources.resolve("hf://owner/repo/model.pth")
    assert "does not exist" not in str(info.value)


# --- prepare --------------------------------------------------------------------------------------
@pytest.fixture()
def folder_root(tmp_path):
    import cv2

    root = tmp_path / "data"
    for cls in ("real", "fake"):
        (root / cls).mkdir(parents=True)
        cv2.imwrite(str(root / cls / "a.png"), np.full((32, 32, 3), 127, np.uint8))
    return root


def test_prepare_out_is_a_file(folder_root, tmp_path, capsys):
    out = tmp_path / "out.txt"
    out.write_text("keep me")
    code, _, err = _run(["prepare", "dataset=folder", f"root={folder_root}", f"out={out}",
                         "progress=false"], capsys)
    assert code == 1
    assert "is a file, not a folder" in _one_clear_line(err)
    assert out.read_text() == "keep me"


def test_prepare_unknown_reader_fails_before_writing(folder_root, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["prepare", "dataset=folder", f"root={folder_root}", f"out={out}",
                         "reader=decrod", "progress=false"], capsys)
    assert code == 2
    line = _one_clear_line(err)
    assert "unknown video reader 'decrod'" in line and "decord" in line
    assert not out.exists()


def test_prepare_unknown_detector_option_lists_the_valid_ones(folder_root, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["prepare", "dataset=folder", f"root={folder_root}", f"out={out}",
                         "detector=dlib_hog", "detector.bogus=1", "progress=false"], capsys)
    assert code == 2
    line = _one_clear_line(err)
    assert "detector 'dlib_hog' does not take the option(s) 'bogus'" in line and "upsample" in line
    assert not out.exists()


# --- config / pretrain ----------------------------------------------------------------------------
@pytest.mark.parametrize("option, message", [
    ("data.real_only=no", "data.real_only must be true or false, got 'no'"),
    ("data.batch_size=abc", "data.batch_size must be a number (the default is 8), got 'abc'"),
])
def test_config_override_keeps_the_type_of_yes_no_and_numeric_keys(option, message, capsys):
    code, out, err = _run(["config", "recipe=fsfm_tiny", option], capsys)
    assert code == 2 and out == ""
    assert message in _one_clear_line(err)


def test_config_override_accepts_well_typed_values(capsys):
    code, out, _ = _run(["config", "recipe=fsfm_tiny", "data.real_only=false", "data.batch_size=4",
                         "optim.blr=0.001"], capsys)
    assert code == 0 and "real_only: false" in out and "batch_size: 4" in out


def test_pretrain_missing_data_path_hint_names_no_bogus_dataset(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, _, err = _run(["pretrain", "recipe=fsfm_tiny", f"data={missing}", f"work_dir={tmp_path / 'w'}"], capsys)
    assert code == 1
    line = _one_clear_line(err)
    assert f"dataset={missing}" not in line and f"out={missing}" in line
    assert line.count(f"{missing}/manifest.jsonl") == 1


@pytest.mark.parametrize("row, message", [
    ('{"path": "gone.png", "label": 0, "video_id": "v", "source": "s", "split": "train"}',
     "rerun the same `fsfm-bench prepare` command"),
    ('{"path": "gone.png", "label": 0}', "'video_id' is a required property; write manifests with"),
])
def test_pretrain_bad_manifest_says_what_to_do_and_writes_nothing(tmp_path, capsys, row, message):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(row + "\n")
    work = tmp_path / "work"
    code, _, err = _run(["pretrain", "recipe=fsfm_tiny", f"data={manifest}", f"work_dir={work}"], capsys)
    assert code == 1
    assert message in _one_clear_line(err)
    assert not work.exists()


def _pretrain_args(tmp_path: Path, *extra: str) -> list[str]:
    import pretrain_synth as ps

    manifest = tmp_path / "data" / "manifest.jsonl"
    if not manifest.exists():
        ps.write_manifest(tmp_path / "data", n=4, size=32)
    return ["pretrain", "recipe=fsfm_tiny", f"data={manifest}", f"work_dir={tmp_path / 'work'}",
            "model.img_size=32", "data.mean=[0.5,0.5,0.5]", "data.std=[0.2,0.2,0.2]", *extra]


def test_pretrain_unknown_masking_leaves_an_existing_run_untouched(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text("original: true\n")
    code, _, err = _run(_pretrain_args(tmp_path, "masking=crfr_q", "resume=false"), capsys)
    assert code == 2
    assert "unknown masking 'crfr_q'" in _one_clear_line(err)
    assert (work / "config.yaml").read_text() == "original: true\n"
    assert sorted(p.name for p in work.iterdir()) == ["config.yaml"]


def test_pretrain_refuses_to_resume_a_run_of_another_config(tmp_path, capsys):
    from fsfm_bench.commands.pretrain import split_options
    from fsfm_bench.config import dump_config, parse_overrides
    from fsfm_bench.pretrain.run import compose_pretrain

    args = _pretrain_args(tmp_path)
    recipe, overrides = split_options(parse_overrides(args[1:]))
    cfg = compose_pretrain(recipe, overrides)
    cfg["data"]["manifest"] = str(tmp_path / "data" / "manifest.jsonl")
    work = tmp_path / "work"
    work.mkdir()
    saved = dump_config(cfg)
    (work / "config.yaml").write_text(saved)
    (work / "epoch_1.pth").write_bytes(b"a checkpoint of the earlier run")
    code, _, err = _run(_pretrain_args(tmp_path, "model.embed_dim=32"), capsys)
    assert code == 1
    line = _one_clear_line(err)
    assert "holds a run with a different config" in line and "model.embed_dim (64 -> 32)" in line
    assert "new work_dir=PATH" in line
    assert (work / "config.yaml").read_text() == saved
    assert (work / "epoch_1.pth").read_bytes() == b"a checkpoint of the earlier run"


def test_pretrain_work_dir_without_checkpoints_may_change_config(tmp_path):
    from fsfm_bench.pretrain.work_dir import check_work_dir

    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text("model:\n  embed_dim: 64\n")
    new = {"model": {"embed_dim": 32}}
    check_work_dir(work, new)                       # nothing to resume: a new config is fine
    (work / "last_checkpoint").write_text(str(work / "epoch_1.pth"))
    from fsfm_bench.errors import FsfmBenchError

    with pytest.raises(FsfmBenchError, match="model.embed_dim"):
        check_work_dir(work, new)
    check_work_dir(work, {**new, "resume": False})  # explicit fresh start


# --- data / leaderboard / rescore -----------------------------------------------------------------
def test_data_verify_strict_must_be_a_boolean(capsys):
    code, _, err = _run(["data", "verify", "dataset=demo", "strict=maybe"], capsys)
    assert code == 2
    assert "strict must be true or false, got 'maybe'" in _one_clear_line(err)


def test_unknown_dataset_option_lists_the_options_once(capsys):
    code, _, err = _run(["data", "verify", "dataset=demo", "bogus=1"], capsys)
    assert code == 2
    line = _one_clear_line(err)
    assert "dataset 'demo' has no option 'bogus'" in line and line.count("Its options:") == 1
    assert "Valid:" not in line


def test_leaderboard_results_pointing_at_a_file(tmp_path, capsys):
    f = tmp_path / "result.json"
    f.write_text("{}")
    code, _, err = _run(["leaderboard", "build", f"results={f}", f"out={tmp_path / 'lb'}"], capsys)
    assert code == 1
    assert "is a file, not a folder" in _one_clear_line(err)
    assert not (tmp_path / "lb").exists()


def test_leaderboard_boolean_options_are_checked(tmp_path, capsys):
    code, _, err = _run(["leaderboard", "build", f"results={tmp_path}", f"out={tmp_path / 'lb'}",
                         "figures=no"], capsys)
    assert code == 2
    assert "figures must be true or false, got 'no'" in _one_clear_line(err)
    assert not (tmp_path / "lb").exists()


def test_rescore_of_a_folder(tmp_path, capsys):
    code, _, err = _run(["rescore", str(tmp_path)], capsys)
    assert code == 1
    assert "is a folder; pass one result_*.json inside it" in _one_clear_line(err)


@pytest.mark.parametrize("option, message", [
    ("bootstrap=abc", "bootstrap must be a whole number >= 0, got 'abc'"),
    ("seed=x", "seed must be a whole number >= 0, got 'x'"),
    ("bootstrap=-3", "bootstrap must be a whole number >= 0, got -3"),
    ("confidence=2", "confidence must be a number between 0 and 1"),
    ("json=maybe", "json must be true or false, got 'maybe'"),
])
def test_rescore_typed_options(tmp_path, capsys, option, message):
    from results_testutil import make_result, tiny_scores

    from fsfm_bench.results import write_result

    scores = tiny_scores()
    path = write_result(make_result(scores, n_resamples=0), tmp_path / "r", scores=scores)
    before = sorted(p.name for p in (tmp_path / "r").iterdir())
    code, out, err = _run(["rescore", str(path), option, f"out={tmp_path / 'new'}"], capsys)
    assert code == 2 and out == ""
    assert message in _one_clear_line(err)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == before
    assert not (tmp_path / "new").exists()
