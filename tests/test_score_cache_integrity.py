"""The score cache is used only when its recorded sha256 verifies: a replaced, truncated or
half-written ``scores.npy`` or chunk is scored again, never trusted.

Before, a valid ``scores.npy`` holding other values turned an AUC of 50 into 100, a chunk changed
on disk changed the metrics, and a truncated ``scores.npy`` ended in an internal error.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from run_testutil import TINY, make_prepared

from fsfm_bench.finetune.model import build_classifier
from fsfm_bench.finetune.scoring import score_paths
from fsfm_bench.io import atomic_save_npy


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scores")
    data = make_prepared(tmp / "data", splits=(("test", 3),), frames=2)
    rows = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    paths = [str(data / r["path"]) for r in rows]        # 12 images
    torch.manual_seed(0)
    model = build_classifier({"backbone": dict(TINY), "adapter": {"type": "fsfm_head"}})
    key = {"checkpoint": "c" * 64, "manifest": "m" * 64, "preprocessing": "p" * 64}
    common = dict(key=key, size=32, batch_size=4, chunk_batches=1, num_workers=0)
    reference = score_paths(model, paths, cache_root=tmp / "ref", **common).scores
    return tmp, model, paths, common, reference


@pytest.mark.parametrize("damage", ["other values", "truncated", "wrong length"])
def test_a_damaged_scores_file_is_scored_again(scorer, tmp_path, damage):
    _, model, paths, common, reference = scorer
    first = score_paths(model, paths, cache_root=tmp_path, **common)
    final = first.cache_dir / "scores.npy"
    if damage == "other values":
        atomic_save_npy(final, 1.0 - reference)           # a valid file, the right length, other scores
    elif damage == "truncated":
        final.write_bytes(final.read_bytes()[:40])
    else:
        atomic_save_npy(final, reference[:-1])
    again = score_paths(model, paths, cache_root=tmp_path, **common)
    assert again.scored == len(paths)
    np.testing.assert_array_equal(again.scores, reference)
    cached = score_paths(model, paths, cache_root=tmp_path, **common)
    assert cached.scored == 0
    np.testing.assert_array_equal(cached.scores, reference)


class _Interrupt(Exception):
    pass


def test_a_chunk_changed_on_disk_is_scored_again(scorer, tmp_path):
    _, model, paths, common, reference = scorer
    real = type(model).scores
    calls = {"n": 0}

    def flaky(self, inputs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Interrupt()
        return real(self, inputs)

    model.scores = flaky.__get__(model)
    try:
        with pytest.raises(_Interrupt):
            score_paths(model, paths, cache_root=tmp_path, **common)
    finally:
        del model.scores
    folder = next(tmp_path.iterdir())
    chunks = sorted(p for p in folder.glob("chunk-*.npy") if not p.name.endswith(".idx.npy"))
    assert len(chunks) == 2
    atomic_save_npy(chunks[0], np.ones(4))                # same shape, other values
    chunks[1].write_bytes(chunks[1].read_bytes()[:30])    # truncated
    resumed = score_paths(model, paths, cache_root=tmp_path, **common)
    assert resumed.scored == len(paths)                   # neither chunk trusted
    np.testing.assert_array_equal(resumed.scores, reference)
