"""A prepared folder is checked against its summary.json (manifest sha256, row count, files) each
time a run loads it: a cached one that drifted is repaired by preparing it again, a user's folder
is a clear error.

Before: 5 manifest lines removed meant fewer frames scored with no warning, flipped labels changed
the metrics, and a manifest naming deleted images could not be repaired by a rerun.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from prepare_helpers import face

from fsfm_bench.data.items import MediaItem
from fsfm_bench.data.manifest import read_manifest, write_manifest
from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.protocols import data as pdata


@pytest.fixture()
def tiny(tmp_path, monkeypatch):
    """A three-image dataset behind a stand-in adapter, and a resolver preparing it into the cache."""
    root = tmp_path / "root"
    root.mkdir()
    items = []
    for i, (name, label) in enumerate([("grace_hopper", 0), ("obama", 1), ("grace_hopper", 0)]):
        canvas = np.full((240, 240, 3), 90, np.uint8)
        src = face(name, 200)
        canvas[20:220, 20:20 + src.shape[1]] = src[:, :200]
        cv2.imwrite(str(root / f"{i}.png"), canvas)
        items.append(MediaItem(path=f"{i}.png", kind="image", label=label, video_id=f"v{i}", split="test",
                               source="tiny", manipulation="real" if label == 0 else "swap"))

    class Adapter:
        prepare_defaults: dict = {}

        def index(self, root, **options):
            return items

    monkeypatch.setattr(pdata, "_adapter", lambda name: Adapter())
    cfg = {"data": {"roots": {"tiny": str(root)}, "cache_dir": str(tmp_path / "cache"),
                    "prepare": {"size": 48, "parser": "geometric", "detect_max_side": 400, "progress": False}}}

    def load():
        return pdata.DataResolver(cfg, progress=False).get("tiny", {}, 1)
    return load


def _drop_rows(manifest: Path, n: int) -> None:
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[n:]))


def _flip_labels(manifest: Path) -> None:
    rows = read_manifest(manifest)
    write_manifest(manifest, [{**r, "label": 1 - r["label"]} for r in rows])


@pytest.mark.parametrize("damage", ["rows removed", "labels flipped", "image deleted"])
def test_a_drifted_cached_prepared_folder_is_repaired_on_load(tiny, damage):
    first = tiny()
    assert len(first.rows) == 3
    manifest = first.folder / "manifest.jsonl"
    if damage == "rows removed":
        _drop_rows(manifest, 2)
    elif damage == "labels flipped":
        _flip_labels(manifest)
    else:
        (first.folder / first.rows[1]["path"]).unlink()
    again = tiny()
    assert again.rows == first.rows and again.manifest_sha256 == first.manifest_sha256
    assert all((again.folder / r["path"]).is_file() for r in again.rows)


def test_a_drifted_user_prepared_folder_is_a_clear_error(tiny, tmp_path):
    folder = tiny().folder
    _drop_rows(folder / "manifest.jsonl", 1)
    cfg = {"data": {"prepared": {"mine": str(folder)}}}
    with pytest.raises(FsfmBenchError) as info:
        pdata.DataResolver(cfg, progress=False).get("mine", {}, None)
    message = str(info.value)
    assert "\n" not in message and "data.prepared.mine" in message and "2 rows" in message
    assert "fsfm-bench prepare" in message
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["frames"]["rows"] == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pickled", "floats"])
def test_a_damaged_parsing_map_is_one_line_naming_it(tmp_path, damage):
    from fsfm_bench.pretrain.data import load_parsing

    path = tmp_path / "parsing" / "0.npy"
    path.parent.mkdir()
    good = np.zeros((1, 16, 16), np.int8)
    if damage == "garbage":
        path.write_bytes(b"\x00not an array at all" * 10)
    elif damage == "truncated":
        np.save(path, good)
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "pickled":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        np.save(path, np.full((16, 16), 0.5))
    with pytest.raises(FsfmBenchError) as info:
        load_parsing(path, 16)
    assert str(path) in str(info.value) and "delete it" in str(info.value) and "\n" not in str(info.value)
