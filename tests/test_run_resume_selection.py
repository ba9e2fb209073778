"""A fine-tuning run killed around a validation pass and resumed selects exactly the checkpoints an
uninterrupted run with the same seed selects: same history, same picks, byte-identical policy files.

mmengine saves epoch k's checkpoint before validating it and resumes at epoch k+1, so without the
SelectionHook's repair the validation of epoch k would be lost (and, killed between the policy files
and the record, a policy file would hold weights the record does not know).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import torch
from run_testutil import make_prepared, synth_config

from fsfm_bench.finetune import selection
from fsfm_bench.io import sha256_file
from fsfm_bench.protocols.run import run

POLICIES = ("source_val", "last", "target_oracle")


class Killed(Exception):
    """Stands for SIGKILL: nothing after the raise point runs."""


def _cfg(tmp: Path, data: Path) -> dict:
    cfg = synth_config(tmp, data, epochs=3, blr=0.02, warmup_epochs=0, track_policies=list(POLICIES))
    cfg["finetune"]["mixup"] = None
    cfg["leaderboard"]["rebuild"] = False
    return cfg


def _state(tmp: Path) -> dict:
    ckpts = next((tmp / "runs").rglob("checkpoints"))
    sel = json.loads((ckpts / "selection.json").read_text())
    files = {}
    for p in POLICIES:
        path = ckpts / f"{p}.pth"
        meta = torch.load(path, weights_only=True)["meta"]
        files[p] = {"sha256": sha256_file(path), "epoch": meta["epoch"], "iter": meta["iter"]}
    return {"history": sel["history"], "picks": sel["picks"], "finished": sel["finished"], "files": files}


def _fresh(tmp: Path) -> None:
    """Same paths (the config hash is in every checkpoint's meta), nothing trained yet.

    mmengine names a Runner's logger/visualizer instances by the second it starts and reuses an
    instance of the same name: a Runner started within the second of the previous one would log
    into the folder removed here. A process per run (the real case) never shares them."""
    for name in ("runs", "results"):
        shutil.rmtree(tmp / name, ignore_errors=True)
    time.sleep(1.1)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    data = make_prepared(tmp / "data", flip_test=True)
    cfg = _cfg(tmp, data)
    run(cfg, log=lambda s: None, progress=False)
    reference = _state(tmp)
    assert [h["epoch"] for h in reference["history"]] == [1, 2, 3]
    assert reference["picks"]["source_val"]["epoch"] != reference["picks"]["target_oracle"]["epoch"], reference
    return tmp, cfg, reference


def _saving_epoch(reference: dict) -> int:
    """The latest non-final epoch whose validation made some policy save a file (epoch 1 always does)."""
    best = {}
    epochs = [1]
    for h in reference["history"][:-1]:
        for key, higher in (("source_val/loss", False), ("target/auc", True)):
            value = h["metrics"][key]
            if key not in best or (value > best[key] if higher else value < best[key]):
                best[key] = value
                epochs.append(h["epoch"])
    return max(epochs)


def _assert_same(reference: dict, resumed: dict) -> None:
    assert resumed["history"] == reference["history"]
    assert resumed["picks"] == reference["picks"] and resumed["finished"]
    assert resumed["files"] == reference["files"]


def _run_killed_in_validation(cfg: dict, monkeypatch, completed_passes: int) -> None:
    """Run until the validation pass after ``completed_passes`` finished ones, and die inside it."""
    real_process, real_compute = selection.SelectionMetric.process, selection.SelectionMetric.compute_metrics
    passes = {"done": 0}

    def dying(self, data_batch, data_samples):
        if passes["done"] == completed_passes:
            raise Killed()
        return real_process(self, data_batch, data_samples)

    def counting(self, results):
        passes["done"] += 1
        return real_compute(self, results)

    monkeypatch.setattr(selection.SelectionMetric, "process", dying)
    monkeypatch.setattr(selection.SelectionMetric, "compute_metrics", counting)
    with pytest.raises(Killed):
        run(cfg, log=lambda s: None, progress=False)


@pytest.mark.parametrize("epoch", [2, 3])        # 3: the last epoch, where the resumed loop trains nothing
def test_killed_during_validation_pass(setup, monkeypatch, epoch):
    tmp, cfg, reference = setup
    _fresh(tmp)
    _run_killed_in_validation(cfg, monkeypatch, completed_passes=epoch - 1)   # inside epoch's pass
    sel = json.loads(next((tmp / "runs").rglob("selection.json")).read_text())
    assert [h["epoch"] for h in sel["history"]] == list(range(1, epoch)) and not sel["finished"]
    monkeypatch.undo()
    run(cfg, log=lambda s: None, progress=False)
    _assert_same(reference, _state(tmp))


def test_killed_between_policy_files_and_record(setup, monkeypatch):
    """Killed after a policy file of epoch k was written but before the record of epoch k."""
    tmp, cfg, reference = setup
    _fresh(tmp)
    k = _saving_epoch(reference)
    real_save = selection.SelectionHook._save
    saved = []

    def dying_save(self, runner, policy, entry):
        real_save(self, runner, policy, entry)
        saved.append((policy, entry["epoch"]))
        if entry["epoch"] == k:
            raise Killed()

    monkeypatch.setattr(selection.SelectionHook, "_save", dying_save)
    with pytest.raises(Killed):
        run(cfg, log=lambda s: None, progress=False)
    assert saved[-1][1] == k, saved          # a policy file holds epoch k, the record does not
    sel = json.loads(next((tmp / "runs").rglob("selection.json")).read_text())
    assert [h["epoch"] for h in sel["history"]] == list(range(1, k))
    monkeypatch.undo()
    run(cfg, log=lambda s: None, progress=False)
    _assert_same(reference, _state(tmp))


def test_killed_after_record_before_policy_file(setup, monkeypatch):
    """The symmetric order: epoch k's record written, a policy file that should hold epoch k not."""
    tmp, cfg, reference = setup
    _fresh(tmp)
    k = _saving_epoch(reference)
    real_write, real_save = selection.SelectionHook._write, selection.SelectionHook._save
    skipped = []

    def save_unless_k(self, runner, policy, entry):
        if entry["epoch"] == k:
            skipped.append(policy)                 # epoch k's policy files are never written
            return None
        return real_save(self, runner, policy, entry)

    def dying_write(self, runner, finished=False):
        real_write(self, runner, finished)
        if self.history and self.history[-1]["epoch"] == k and not finished:
            raise Killed()

    monkeypatch.setattr(selection.SelectionHook, "_save", save_unless_k)
    monkeypatch.setattr(selection.SelectionHook, "_write", dying_write)
    with pytest.raises(Killed):
        run(cfg, log=lambda s: None, progress=False)
    ckpts = next((tmp / "runs").rglob("checkpoints"))
    sel = json.loads((ckpts / "selection.json").read_text())
    assert [h["epoch"] for h in sel["history"]] == list(range(1, k + 1))
    stale = [p for p in ("source_val", "target_oracle") if sel["picks"][p]["epoch"] == k]
    assert stale and skipped, (sel["picks"], skipped)       # the case is really exercised
    for p in stale:
        path = ckpts / f"{p}.pth"
        assert not path.is_file() or torch.load(path, weights_only=True)["meta"]["epoch"] != k
    monkeypatch.undo()
    run(cfg, log=lambda s: None, progress=False)
    _assert_same(reference, _state(tmp))


def _killed_in_validation_then_resumed_equals_uninterrupted(tmp: Path, cfg: dict, monkeypatch,
                                                            completed_passes: int) -> dict:
    """Run uninterrupted (the reference), then again killed inside the validation pass after
    ``completed_passes`` ones and resumed: the resumed run must equal the reference. Returns it."""
    run(cfg, log=lambda s: None, progress=False)
    reference = _state(tmp)
    _fresh(tmp)
    _run_killed_in_validation(cfg, monkeypatch, completed_passes=completed_passes)
    monkeypatch.undo()
    time.sleep(1.1)                             # see _fresh
    run(cfg, log=lambda s: None, progress=False)
    _assert_same(reference, _state(tmp))
    return reference


def test_iteration_based_run_resumes_bit_identically(tmp_path, monkeypatch):
    """FAS recipes train by iterations: the interrupted validation is redone there too, and the
    resumed run is the uninterrupted one: same history, picks and byte-identical policy files
    (mmengine's replay of the data loader on resume would redraw the augmentations otherwise)."""
    data = make_prepared(tmp_path / "data", splits=(("train", 4), ("val", 2), ("test", 2)), frames=2)
    cfg = synth_config(tmp_path, data, by_epoch=False, max_iters=6, val_interval=2, warmup_epochs=0,
                       track_policies=list(POLICIES))
    cfg["finetune"]["mixup"] = None
    assert cfg["finetune"]["augment"]["rand_augment"] and cfg["finetune"]["drop_path"] > 0   # random draws
    # killed inside the pass after iteration 4
    reference = _killed_in_validation_then_resumed_equals_uninterrupted(tmp_path, cfg, monkeypatch, 1)
    assert [h["iter"] for h in reference["history"]] == [2, 4, 6] and reference["finished"]


def test_resume_with_loader_workers_is_bit_identical(tmp_path, monkeypatch):
    """With loader workers the augmentations are drawn in the workers: they are seeded per epoch
    from the checkpointed main generator, so a run killed in epoch 2's validation and resumed
    still equals the uninterrupted run."""
    data = make_prepared(tmp_path / "data", splits=(("train", 4), ("val", 2), ("test", 2)), frames=2)
    cfg = _cfg(tmp_path, data)
    cfg["finetune"]["num_workers"] = 1
    _killed_in_validation_then_resumed_equals_uninterrupted(tmp_path, cfg, monkeypatch, 1)
