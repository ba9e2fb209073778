"""The demo's cached pretraining counts as finished only when its export's card (written last) exists
and matches the encoder: a kill during the export is redone on rerun, to the same weights.

Any exported ``.pth`` used to count as a finished cache, so a kill between the encoder file and its
card wedged every rerun (the card-less encoder was built with the default architecture: "120
missing keys").
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from types import SimpleNamespace

import mmengine.runner.runner as mm_runner
import pretrain_synth as ps
import pytest
import torch

from fsfm_bench.data.manifest import manifest_hash, read_manifest
from fsfm_bench.pretrain import export as export_mod
from fsfm_bench.protocols.data import Prepared
from fsfm_bench.protocols.plan import pretrain_tiny

SPEC = {"dataset": "synth", "recipe": "fsfm_tiny",
        "overrides": {"model": {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2,
                                "decoder_embed_dim": 32, "decoder_depth": 1, "rep_decoder_depth": 1},
                      "masking": {"name": "random"}, "data": {"batch_size": 4},
                      "schedule": {"epochs": 2, "horizon_epochs": 2}, "checkpoint": {"interval": 1}}}


class Killed(Exception):
    pass


def _pretrain(tmp: Path, cache: str, spec: dict = SPEC) -> Path:
    manifest = tmp / "data" / "manifest.jsonl"
    rows = read_manifest(manifest)
    resolver = SimpleNamespace(get=lambda name, options, frames: Prepared(name, manifest.parent, rows,
                                                                          manifest_hash(rows)))
    # a stand-in with the two fields pretrain_tiny reads; the demo's ref, so the recipe lookup is the real one
    protocol = SimpleNamespace(pretrain_if_no_checkpoint=spec, ref="demo@2")
    return pretrain_tiny(protocol, resolver, {"data": {"cache_dir": str(tmp / cache)}}, lambda s: None)


def test_kill_during_export_is_redone_to_the_same_encoder(tmp_path, monkeypatch):
    ps.write_manifest(tmp_path / "data", n=8, size=32)
    reference = torch.load(_pretrain(tmp_path, "reference"), weights_only=True)["model"]

    real = export_mod.atomic_write_json

    def dying(path, obj, *args, **kwargs):
        if Path(path).name == export_mod.CARD_FILE:
            raise Killed()                    # the encoder and mean/std files are written, the card is not
        return real(path, obj, *args, **kwargs)

    monkeypatch.setattr(export_mod, "atomic_write_json", dying)
    with pytest.raises(Killed):
        _pretrain(tmp_path, "killed")
    monkeypatch.undo()
    export = next((tmp_path / "killed").rglob("export"))
    assert (export / export_mod.ENCODER_FILE).is_file() and not (export / export_mod.CARD_FILE).exists()
    assert export_mod.finished_export(export) is None

    ckpt = _pretrain(tmp_path, "killed")
    card = json.loads((export / export_mod.CARD_FILE).read_text())
    assert ckpt == export / card["file"] and export_mod.finished_export(export) == ckpt
    resumed = torch.load(ckpt, weights_only=True)["model"]
    assert resumed.keys() == reference.keys()
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


def test_export_whose_card_does_not_match_is_not_finished(tmp_path):
    (tmp_path / export_mod.ENCODER_FILE).write_bytes(b"encoder")
    (tmp_path / export_mod.CARD_FILE).write_text(json.dumps({"file": export_mod.ENCODER_FILE, "sha256": "0" * 64}))
    assert export_mod.finished_export(tmp_path) is None
    (tmp_path / export_mod.CARD_FILE).write_text("{not json")
    assert export_mod.finished_export(tmp_path) is None


def test_kill_while_writing_a_pretraining_checkpoint_resumes_to_the_same_encoder(tmp_path, monkeypatch):
    """One checkpoint kept (max_keep=1): mmengine deleted epoch 1's before writing epoch 2's in
    place, so a kill there left nothing to resume from and a pointer to a deleted file."""
    spec = copy.deepcopy(SPEC)
    spec["overrides"]["checkpoint"]["max_keep"] = 1
    ps.write_manifest(tmp_path / "data", n=8, size=32)
    reference = torch.load(_pretrain(tmp_path, "reference", spec), weights_only=True)["model"]
    real = mm_runner.save_checkpoint

    def dying(checkpoint, filename, *args, **kwargs):
        if checkpoint["meta"]["epoch"] != 2:
            return real(checkpoint, filename, *args, **kwargs)
        real(checkpoint, filename, *args, **kwargs)
        Path(filename).write_bytes(Path(filename).read_bytes()[:1000])     # half written, then killed
        raise Killed()

    monkeypatch.setattr(mm_runner, "save_checkpoint", dying)
    with pytest.raises(Killed):
        _pretrain(tmp_path, "killed", spec)
    monkeypatch.undo()
    time.sleep(1.1)          # a Runner started within the same second would reuse the last one's logger
    resumed = torch.load(_pretrain(tmp_path, "killed", spec), weights_only=True)["model"]
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)
