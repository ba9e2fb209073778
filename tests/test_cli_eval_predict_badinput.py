"""Bad input to ``fsfm-bench eval``/``predict`` is ONE stderr line with the right exit status (never a
traceback), and the CLI's safety net turns any other exception into one line too."""
from __future__ import annotations

import copy

import cv2
import pytest
import torch
from prepare_helpers import face
from run_testutil import TINY

from fsfm_bench.cli import main
from fsfm_bench.finetune.model import build_classifier


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A self-describing fine-tuned checkpoint of the tiny stand-in (as the selection hook writes it)."""
    path = tmp_path_factory.mktemp("ckpt") / "model.pth"
    torch.manual_seed(0)
    model_cfg = {"backbone": copy.deepcopy(TINY), "adapter": {"type": "fsfm_head"}, "mean": [0.5] * 3, "std": [0.5] * 3}
    torch.save({"state_dict": build_classifier(model_cfg).state_dict(),
                "meta": {"model": model_cfg, "img_size": 32, "policy": "last"}}, path)
    return path


def _one_line(capsys, code, argv) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _training_state(tmp_path):
    """What mmengine's CheckpointHook writes beside the policy files: weights_only refuses it."""
    from mmengine.logging import HistoryBuffer

    path = tmp_path / "seed0" / "train" / "epoch_1.pth"
    path.parent.mkdir(parents=True)
    torch.save({"meta": {"epoch": 1}, "state_dict": {"w": torch.zeros(2)},
                "message_hub": {"log_scalars": {"train/loss": HistoryBuffer()}}}, path)
    return path


def test_a_file_that_is_no_checkpoint_says_so_for_eval_and_predict(tmp_path, capsys, ckpt):
    text = tmp_path / "notimg.txt"
    text.write_text("hello\n")
    for argv in (["eval", "protocol=demo", f"checkpoint={text}"], ["predict", f"checkpoint={text}", str(text)]):
        err = _one_line(capsys, 1, argv)
        assert f"{text} is not a checkpoint fsfm-bench can load" in err and "checkpoints/{source_val" in err
    err = _one_line(capsys, 1, ["eval", "protocol=demo", f"checkpoint={tmp_path}"])
    assert "is a directory" in err


def test_a_training_state_checkpoint_names_the_policy_files_beside_it(tmp_path, capsys):
    state = _training_state(tmp_path)
    lines = [_one_line(capsys, 1, ["eval", "protocol=demo", f"checkpoint={state}"]),
             _one_line(capsys, 1, ["predict", f"checkpoint={state}", str(state)])]
    assert lines[0] == lines[1]                         # the same message from both commands
    assert "training-state checkpoint" in lines[0]
    assert str(tmp_path / "seed0" / "checkpoints") + "/{source_val,last,target_oracle}.pth" in lines[0]


@pytest.mark.parametrize("argv, key", [
    (["eval", "protocol=demo", "seed=abc"], "seed=abc"),
    (["eval", "protocol=demo", "seed=1.5"], "seed=1.5"),
    (["predict", "frames=abc"], "frames=abc"),
    (["predict", "frames=0"], "frames=0"),
    (["predict", "detect_max_side=big"], "detect_max_side=big"),
])
def test_a_non_integer_option_is_a_usage_error_naming_it(tmp_path, capsys, ckpt, argv, key):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    argv = [*argv, f"checkpoint={ckpt}"] + ([str(image)] if argv[0] == "predict" else [])
    err = _one_line(capsys, 2, argv)
    assert key in err and "integer" in err


def test_cuda_on_a_machine_without_it_is_one_line(tmp_path, capsys, ckpt, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), face("grace_hopper", 120))
    err = _one_line(capsys, 1, ["predict", f"checkpoint={ckpt}", "device=cuda", str(image)])
    assert err.endswith("device=cuda requested but no CUDA device is available; use device=cpu")
    err = _one_line(capsys, 2, ["predict", f"checkpoint={ckpt}", "device=gpu0", str(image)])
    assert "device='gpu0' is not a device name" in err


def test_predict_checks_its_files_before_loading_the_model(tmp_path, capsys, ckpt, monkeypatch):
    """A missing file or a folder is one usage error naming them all, before any model loads; a file
    that exists but cannot be decoded is reported on its own line, the others are scored."""
    import fsfm_bench.finetune.model as model

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr(model, "load_finetuned", no_load)
    text = tmp_path / "x.txt"
    text.write_text("not an image")
    folder = tmp_path / "folder"
    folder.mkdir()
    err = _one_line(capsys, 2, ["predict", f"checkpoint={ckpt}", str(text), str(folder), str(tmp_path / "gone.png")])
    assert f"2 of 3 input(s) cannot be scored, nothing was loaded: {folder} (a directory), " \
           f"{tmp_path / 'gone.png'} (no such file)" in err
    err = _one_line(capsys, 1, ["predict", f"checkpoint={tmp_path / 'nope.pth'}", str(text)])
    assert f"checkpoint {tmp_path / 'nope.pth'} does not exist" in err
    err = _one_line(capsys, 2, ["predict", f"checkpoint={ckpt}", "detector=dlib_hgo", str(text)])
    assert "unknown detector 'dlib_hgo'" in err and "dlib_hog" in err
    monkeypatch.undo()
    assert main(["predict", f"checkpoint={ckpt}", "--csv", str(text)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,p_fake,error" and lines[1].startswith(f"{text},,not a decodable image")
    assert str(text) not in lines[1].split(",", 2)[2]


def test_eval_needs_only_the_datasets_it_scores(tmp_path, capsys, ckpt, monkeypatch):
    """cdfd trains on FF++ but scores CDFv2/DFDC/DFDCp/WDF at a fixed threshold: eval must not ask for FF++."""
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "no-datasets.yaml"))
    for name in ("FFPP", "CELEBDF_V2", "DFDC", "DFDC_PREVIEW", "WILDDEEPFAKE"):
        monkeypatch.delenv(f"FSFM_BENCH_ROOT_{name}", raising=False)
    err = _one_line(capsys, 1, ["eval", "protocol=cdfd@1", f"checkpoint={ckpt}", f"data.roots.celebdf_v2={tmp_path}",
                                f"data.roots.dfdc={tmp_path}", f"data.roots.wilddeepfake={tmp_path}"])
    assert err.startswith("fsfm-bench: error: protocol cdfd@1 cannot be evaluated: dataset 'dfdc_preview'")
    assert "ffpp" not in err and "nothing was trained" not in err and "celebdf_v2" not in err


def test_any_other_exception_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    import fsfm_bench.commands.ls as ls

    def broken(args):
        raise TypeError("bad\nthing")

    monkeypatch.setattr(ls, "main", broken)
    err = _one_line(capsys, 1, ["ls", "backbones"])
    assert err == ("fsfm-bench: error: internal error (TypeError: bad thing); rerun with --debug for the "
                   "traceback and please report it")
    with pytest.raises(TypeError):
        main(["--debug", "ls", "backbones"])


def test_the_plugin_template_backbone_takes_and_honours_the_recipe_kwargs(tmp_path, monkeypatch):
    from pathlib import Path

    from fsfm_bench.errors import FsfmBenchError, UsageError

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "examples" / "plugin-template"))
    from fsfm_bench_example.backbone import build_example_vit

    model = build_example_vit(checkpoint=None, img_size=48, drop_path_rate=0.2, global_pool="token",
                              arch=None, mean=None, std=None)
    assert model.vit.blocks[-1].drop_path1.drop_prob == pytest.approx(0.2)
    x = torch.randn(2, 3, 48, 48)
    tokens = model.eval().forward_features(x)
    assert tokens.shape == (2, 1 + (48 // 8) ** 2, 64)
    torch.testing.assert_close(model(x), tokens[:, 0])             # global_pool=token: the cls token
    path = tmp_path / "w.pth"
    torch.save({"model": model.state_dict()}, path)
    again = build_example_vit(checkpoint=str(path), img_size=48, global_pool="token")
    torch.testing.assert_close(again.vit.pos_embed, model.vit.pos_embed)
    with pytest.raises(FsfmBenchError, match="does not fit"):
        build_example_vit(checkpoint=str(path), img_size=32)
    with pytest.raises(UsageError, match="does not take bogus"):
        build_example_vit(bogus=1)
