"""A fine-tuning run killed at any checkpoint boundary, or stopped by a full disk, resumes to exactly
what an uninterrupted run gives: same history, picks and byte-identical selected checkpoints.

mmengine deleted the previous checkpoint before writing the next one in place and rewrote
``last_checkpoint`` in place: a kill there left a truncated file, an empty pointer or one naming a
deleted file, and every rerun failed. A lost or damaged ``selection.json`` made the rerun select
from a history holding only the last epoch. The kill-and-resume helpers are those of
tests/test_run_resume_selection.py.
"""
from __future__ import annotations

import errno
import json
from pathlib import Path

import mmengine.runner.runner as mm_runner
import pytest
from run_testutil import make_prepared
from test_run_resume_selection import Killed, _assert_same, _cfg, _fresh, _run_killed_in_validation, _state

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.protocols.run import run
from fsfm_bench.training import checkpointing


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("boundaries")
    data = make_prepared(tmp / "data", flip_test=True)
    cfg = _cfg(tmp, data)
    run(cfg, log=_quiet, progress=False)
    reference = _state(tmp)
    assert [h["epoch"] for h in reference["history"]] == [1, 2, 3]
    return tmp, cfg, reference


def _train_dir(tmp: Path) -> Path:
    return next((tmp / "runs").rglob("seed0")) / "train"


def _die_writing(monkeypatch, epoch: int, exc: BaseException | None = None) -> None:
    """mmengine's writer of epoch ``epoch``'s training checkpoint leaves half a file and dies (or raises ``exc``)."""
    real = mm_runner.save_checkpoint

    def dying(checkpoint, filename, *args, **kwargs):
        if checkpoint["meta"]["epoch"] != epoch:
            return real(checkpoint, filename, *args, **kwargs)
        real(checkpoint, filename, *args, **kwargs)
        data = Path(filename).read_bytes()
        Path(filename).write_bytes(data[: len(data) // 2])
        raise exc if exc is not None else Killed()

    monkeypatch.setattr(mm_runner, "save_checkpoint", dying)


def _die_at_pointer(monkeypatch, epoch: int) -> None:
    """The new checkpoint is complete and renamed; the pointer still names the previous one."""
    real = checkpointing.write_pointer

    def dying(work_dir, checkpoint):
        if Path(checkpoint).name == f"epoch_{epoch}.pth":
            raise Killed()
        return real(work_dir, checkpoint)

    monkeypatch.setattr(checkpointing, "write_pointer", dying)


def _die_dropping(monkeypatch, epoch: int) -> None:
    """The pointer names the new checkpoint; the superseded one is not deleted yet."""
    real = checkpointing.AtomicCheckpointHook._drop

    def dying(self, steps):
        if steps == [epoch - 1]:
            raise Killed()
        return real(self, steps)

    monkeypatch.setattr(checkpointing.AtomicCheckpointHook, "_drop", dying)


def _die_pruning(monkeypatch, epoch: int) -> None:
    """Training finished and its selection recorded; killed while deleting the resume state."""
    def dying(work_dir):
        (Path(work_dir) / checkpointing.POINTER).unlink()
        raise Killed()

    monkeypatch.setattr(checkpointing, "prune_training_checkpoints", dying)


BOUNDARIES = {"writing": _die_writing, "pointer": _die_at_pointer, "dropping": _die_dropping,
              "pruning": _die_pruning}


@pytest.mark.parametrize("boundary,epoch", [("writing", 2), ("writing", 3), ("pointer", 2), ("dropping", 2),
                                            ("pruning", 3)])
def test_killed_at_a_checkpoint_boundary_resumes_bit_identically(setup, monkeypatch, boundary, epoch):
    tmp, cfg, reference = setup
    _fresh(tmp)
    BOUNDARIES[boundary](monkeypatch, epoch)
    with pytest.raises(Killed):
        run(cfg, log=_quiet, progress=False)
    monkeypatch.undo()
    train = _train_dir(tmp)
    if boundary == "writing":       # the half-written file is a temporary: the previous one is intact
        assert (train / f"epoch_{epoch - 1}.pth").is_file()
        assert checkpointing.latest_checkpoint(train) == train / f"epoch_{epoch - 1}.pth"
    run(cfg, log=_quiet, progress=False)
    _assert_same(reference, _state(tmp))
    assert not list(train.glob("*.pth")) and not list(train.glob(".*.tmp"))   # only the selected ones stay


@pytest.mark.parametrize("pointer", ["", "epoch_7.pth"])
def test_an_empty_or_dangling_pointer_resumes_from_the_newest_complete_checkpoint(setup, monkeypatch, pointer):
    """What a kill during mmengine's in-place rewrite of ``last_checkpoint`` left: the rerun must not fail."""
    tmp, cfg, reference = setup
    _fresh(tmp)
    _run_killed_in_validation(cfg, monkeypatch, completed_passes=1)     # inside epoch 2's validation
    monkeypatch.undo()
    train = _train_dir(tmp)
    (train / "last_checkpoint").write_text(pointer)
    run(cfg, log=_quiet, progress=False)
    _assert_same(reference, _state(tmp))


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   RuntimeError("[enforce fail at inline_container.cc:595] . PytorchStreamWriter "
                                                "failed writing file data/3: file write failed")])
def test_disk_full_while_checkpointing_is_one_line_naming_the_folder(setup, monkeypatch, error):
    tmp, cfg, reference = setup
    _fresh(tmp)
    _die_writing(monkeypatch, 2, error)
    with pytest.raises(FsfmBenchError) as info:
        run(cfg, log=_quiet, progress=False)
    message = str(info.value)
    train = _train_dir(tmp)
    assert "disk full" in message and str(train) in message and "\n" not in message
    assert checkpointing.latest_checkpoint(train) == train / "epoch_1.pth"        # untouched
    monkeypatch.undo()
    run(cfg, log=_quiet, progress=False)                                         # space freed: it resumes
    _assert_same(reference, _state(tmp))


@pytest.mark.parametrize("moment,damage", [("mid-run", "deleted"), ("finished", "garbage")])
def test_lost_selection_record_is_recomputed_not_reselected(setup, monkeypatch, moment, damage):
    """selection.json lost or damaged, mid-run (rebuilt from the resumed checkpoint) or after the run
    finished (retrained): the picks and files are the uninterrupted run's, never the last epoch's alone."""
    tmp, cfg, reference = setup
    _fresh(tmp)
    if moment == "mid-run":
        _run_killed_in_validation(cfg, monkeypatch, completed_passes=2)     # inside epoch 3's validation
        monkeypatch.undo()
    else:
        run(cfg, log=_quiet, progress=False)
    record = next((tmp / "runs").rglob("selection.json"))
    if damage == "deleted":
        record.unlink()
    else:
        record.write_text('{"history": [{"epoch": 1, "it')
    _fresh_logs()
    run(cfg, log=_quiet, progress=False)
    _assert_same(reference, _state(tmp))


def _fresh_logs() -> None:
    """A new Runner in the same second would reuse the previous one's logger (see _fresh)."""
    import time

    time.sleep(1.1)


def test_finished_run_keeps_only_the_selected_checkpoints(setup):
    """The resume state (weights plus optimizer moments, ~1 GB for a ViT-B) goes once training is over."""
    tmp, cfg, reference = setup
    _fresh(tmp)
    run(cfg, log=_quiet, progress=False)
    seed = next((tmp / "runs").rglob("seed0"))
    kept = sorted(p.relative_to(seed).as_posix() for p in seed.rglob("*.pth"))
    assert kept == ["checkpoints/last.pth", "checkpoints/source_val.pth", "checkpoints/target_oracle.pth"]
    assert not (seed / "train" / "last_checkpoint").exists()
    assert json.loads((seed / "checkpoints" / "selection.json").read_text())["finished"]
