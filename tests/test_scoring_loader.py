"""The scorer's two loader layouts (one image per worker item + collate, or one whole batch per
item) must hand the model the very same uint8 batches and give the very same scores."""
from __future__ import annotations

import json

import numpy as np
import torch

from fsfm_bench.finetune.model import build_classifier
from fsfm_bench.finetune.scoring import score_loader, score_paths
from tests.test_run_pipeline import TINY, make_prepared


def _paths(tmp_path):
    data = make_prepared(tmp_path / "data", splits=(("test", 5),), frames=2)
    rows = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    return [str(data / r["path"]) for r in rows]


def test_batched_reads_yield_the_same_batches_in_the_same_order(tmp_path):
    paths = _paths(tmp_path)
    order = [7, 3, 0, 19, 12, 5, 8, 1, 2]          # any subset, any order (a resumed scoring's todo)
    per_image = list(score_loader(paths, order, size=32, batch_size=4))
    batched = list(score_loader(paths, order, size=32, batch_size=4, batched_reads=True))
    assert [len(i) for i, _ in batched] == [4, 4, 1]
    assert len(per_image) == len(batched)
    for (a, ia), (b, ib) in zip(per_image, batched, strict=True):
        assert a.dtype == b.dtype == torch.uint8 and a.shape == b.shape
        assert torch.equal(a, b) and ia.tolist() == ib.tolist()
    assert [int(i) for _, idx in batched for i in idx] == order


def test_batched_reads_score_identically_with_workers(tmp_path):
    paths = _paths(tmp_path)
    torch.manual_seed(0)
    model = build_classifier({"backbone": dict(TINY), "adapter": {"type": "fsfm_head"}})
    key = {"checkpoint": "c" * 64, "manifest": "m" * 64, "preprocessing": "p" * 64}
    common = dict(key=key, size=32, batch_size=8, chunk_batches=1)
    one = score_paths(model, paths, cache_root=tmp_path / "a", num_workers=0, **common)
    two = score_paths(model, paths, cache_root=tmp_path / "b", num_workers=2, batched_reads=True, **common)
    assert one.scored == two.scored == len(paths)
    np.testing.assert_array_equal(one.scores, two.scores)
    assert np.isfinite(one.scores).all() and one.scores.std() > 0   # real, varying scores
