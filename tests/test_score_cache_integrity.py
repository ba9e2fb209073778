"""The score cache is used only when its recorded sha256 verifies: a replaced, truncated or
half-written ``scores.npy`` or chunk is scored again, never trusted.

Before, a valid ``scores.npy`` holding other values turned an AUC of 50 into 100, a chunk changed
on disk changed the metrics, and a truncated ``scores.npy`` ended in an internal error.
"""
from __future__ import annotations

import numpy as np
import pytest
from run_testutil import tiny_scorer

from fsfm_bench.finetune.scoring import score_paths
from fsfm_bench.io import atomic_save_npy


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scores")
    model, paths, common = tiny_scorer(tmp / "data", videos=3)             # 12 images
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


class _Killed(Exception):
    pass


def test_a_chunk_changed_on_disk_is_scored_again(scorer, tmp_path, monkeypatch):
    """Killed before the chunks were merged; then one chunk replaced by other values and one
    truncated: only those two chunks' rows are scored again, the intact one is reused."""
    from fsfm_bench.finetune import scoring

    _, model, paths, common, reference = scorer
    real = scoring.atomic_save_npy

    def no_merge(path, array):
        if path.name == "scores.npy":
            raise _Killed()
        return real(path, array)

    monkeypatch.setattr(scoring, "atomic_save_npy", no_merge)
    with pytest.raises(_Killed):
        score_paths(model, paths, cache_root=tmp_path, **common)
    monkeypatch.undo()
    folder = next(tmp_path.iterdir())
    chunks = sorted(p for p in folder.glob("chunk-*.npy") if not p.name.endswith(".idx.npy"))
    assert len(chunks) == 3                               # 12 images, batches of 4, a chunk per batch
    atomic_save_npy(chunks[0], np.ones(4))                # same shape, other values
    chunks[1].write_bytes(chunks[1].read_bytes()[:30])    # truncated
    resumed = score_paths(model, paths, cache_root=tmp_path, **common)
    assert resumed.scored == 8
    np.testing.assert_array_equal(resumed.scores, reference)
