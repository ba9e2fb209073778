"""No code runs from a run folder: every resume (fine-tuning and pretraining) loads its checkpoint
with the safe loader, and the pointer names a file of the folder itself.

mmengine's resume called ``torch.load(weights_only=False)`` on whatever ``last_checkpoint`` named,
so a pickle planted in ``runs/.../train/`` ran its code on the next plain ``fsfm-bench run``, and the
absolute pointer made a copied folder resume from the original's files.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pretrain_synth as ps
import pytest
import torch
from run_testutil import make_prepared
from test_run_resume_selection import _assert_same, _cfg, _run_killed_in_validation, _state

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.protocols.run import run


class Payload:
    """Unpickling this creates a folder: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _plant(train: Path, marker: Path, name: str = "epoch_9.pth") -> Path:
    evil = train / name
    torch.save({"meta": {"epoch": 9, "iter": 99}, "state_dict": {}, "x": Payload(marker)}, evil)
    (train / "last_checkpoint").write_text(str(evil))
    return evil


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A reference run and a copy of the same run killed in epoch 2's validation (resumable)."""
    tmp = tmp_path_factory.mktemp("safety")
    data = make_prepared(tmp / "data", splits=(("train", 4), ("val", 2), ("test", 2)), frames=2, flip_test=True)
    return tmp, data


def _setup(tmp: Path, data: Path, monkeypatch, name: str, work_dir: str | None = None,
           reference: bool = True) -> tuple[dict, dict | None]:
    """(config, the uninterrupted run's state or None); the run is left killed in epoch 2's validation."""
    import time

    work = tmp / name
    cfg = _cfg(work, data)
    if work_dir is not None:
        cfg["work_dir"] = work_dir
    state = None
    if reference:
        run(cfg, log=_quiet, progress=False)
        state = _state(work)
        shutil.rmtree(work / "runs")
        shutil.rmtree(work / "results")
        time.sleep(1.1)          # see tests/test_run_resume_selection.py::_fresh
    _run_killed_in_validation(cfg, monkeypatch, completed_passes=1)
    monkeypatch.undo()
    time.sleep(1.1)
    return cfg, state


def test_planted_pickle_in_a_run_folder_never_runs(interrupted, monkeypatch):
    tmp, data = interrupted
    cfg, reference = _setup(tmp, data, monkeypatch, "planted")
    train = next((tmp / "planted" / "runs").rglob("train"))
    marker = tmp / "pwned"
    evil = _plant(train, marker)
    with pytest.raises(Exception) as info:      # noqa: PT011 - which one is asserted after the payload check
        run(cfg, log=_quiet, progress=False)
    assert not marker.exists(), "the planted pickle's code ran"
    assert isinstance(info.value, FsfmBenchError), info.value
    message = str(info.value)
    assert "\n" not in message and str(evil) in message and "refusing to resume" in message
    evil.unlink()                               # what the message says to do
    (train / "last_checkpoint").unlink()
    run(cfg, log=_quiet, progress=False)        # resumes from the run's own newest checkpoint
    _assert_same(reference, _state(tmp / "planted"))


def test_truncated_resume_checkpoint_is_one_line_naming_the_file(interrupted, monkeypatch):
    tmp, data = interrupted
    cfg, _ = _setup(tmp, data, monkeypatch, "truncated", reference=False)
    train = next((tmp / "truncated" / "runs").rglob("train"))
    ckpt = train / "epoch_2.pth"
    ckpt.write_bytes(ckpt.read_bytes()[:3000])
    with pytest.raises(FsfmBenchError) as info:
        run(cfg, log=_quiet, progress=False)
    message = str(info.value)
    assert "\n" not in message and str(ckpt) in message and "delete it" in message


def test_copied_run_folder_resumes_from_its_own_files(interrupted, monkeypatch):
    """work_dir=runs (relative, as by default) in one folder, copied to another: the copy resumes
    from the copy's checkpoint, even when the original is gone."""
    tmp, data = interrupted
    first, second = tmp / "machine-a", tmp / "machine-b"
    first.mkdir()
    monkeypatch.chdir(first)
    cfg, reference = _setup(tmp, data, monkeypatch, "machine-a", work_dir="runs")
    shutil.copytree(first, second)
    shutil.rmtree(first)
    monkeypatch.chdir(second)
    run(cfg, log=_quiet, progress=False)
    _assert_same(reference, _state(second))


def test_pretraining_resume_refuses_a_planted_pickle(tmp_path):
    from fsfm_bench.commands import pretrain

    manifest = ps.write_manifest(tmp_path / "data", n=8, size=32)
    work = tmp_path / "work"
    work.mkdir()
    marker = tmp_path / "pwned"
    evil = _plant(work, marker, "epoch_1.pth")
    opts = ["recipe=fsfm_tiny", f"data={manifest}", "masking=random", f"work_dir={work}", "model.img_size=32",
            "model.patch_size=8", "model.embed_dim=32", "model.depth=1", "model.num_heads=2",
            "model.decoder_embed_dim=32", "model.decoder_depth=1", "model.rep_decoder_depth=1",
            "data.batch_size=4", "schedule.epochs=2", "data.mean=[0.5,0.5,0.5]", "data.std=[0.2,0.2,0.2]"]
    with pytest.raises(Exception) as info:      # noqa: PT011 - which one is asserted after the payload check
        pretrain.main(argparse.Namespace(options=opts, debug=True))
    assert not marker.exists(), "the planted pickle's code ran"
    assert isinstance(info.value, FsfmBenchError), info.value
    assert str(evil) in str(info.value) and "\n" not in str(info.value)
