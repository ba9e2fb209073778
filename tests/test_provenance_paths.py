"""Published provenance does not depend on where the cache lives: the result's
``data.*.manifest_hash`` and the per-sample scores' ``path`` are the same for the same prepared data
in two cache roots, while the run's own split files hold absolute, consistent paths."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from run_testutil import make_prepared, synth_config

from fsfm_bench.data.manifest import manifest_hash, read_manifest, write_manifest
from fsfm_bench.protocols.data import DataResolver, provenance_hash, published_path, write_rows
from fsfm_bench.protocols.spec import Source


def _with_parsing(folder: Path) -> Path:
    """Give every row of a synthetic prepared folder a parsing map, as `fsfm-bench prepare` does."""
    rows = read_manifest(folder / "manifest.jsonl")
    for r in rows:
        rel = Path(r["path"]).with_suffix(".npy").as_posix().replace("images/", "parsing/", 1)
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        np.save(folder / rel, np.zeros((32, 32), dtype=np.int8))
        r["parsing"] = rel
    write_manifest(folder / "manifest.jsonl", rows)
    return folder


def _two_caches(tmp_path: Path, **kw) -> list[Path]:
    """One prepared dataset, copied into the prepared folder of two different cache roots."""
    original = _with_parsing(make_prepared(tmp_path / "original", **kw))
    copies = []
    for where in ("a", "b"):
        dest = tmp_path / where / "cache" / "prepared" / "synth-0123456789ab"
        shutil.copytree(original, dest)
        copies.append(dest)
    return copies


def test_selected_rows_hash_and_publish_without_the_location(tmp_path):
    folders = _two_caches(tmp_path, splits=(("train", 2), ("test", 2)), frames=2)
    src = Source.from_dict({"dataset": "synth", "split": "test"})
    selections = []
    for folder in folders:
        cfg = {"data": {"prepared": {"synth": str(folder)}, "cache_dir": str(folder.parents[1])}}
        rows, prepared = DataResolver(cfg, progress=False).rows_for(src)
        selections.append(rows)
        # the run's rows: image AND parsing paths absolute, inside this copy, and existing
        for r in rows:
            assert Path(r["path"]).is_absolute() and Path(r["parsing"]).is_absolute()
            assert Path(r["path"]).is_file() and Path(r["parsing"]).is_file()
            assert Path(r["path"]).is_relative_to(folder.resolve())
        # the split file holds the same absolute paths, and returns the location-free hash
        digest = write_rows(tmp_path / f"split-{folder.parts[-4]}.jsonl", rows)
        stored = [json.loads(line) for line in (tmp_path / f"split-{folder.parts[-4]}.jsonl").read_text().splitlines()]
        assert stored[0]["parsing"] == rows[0]["parsing"] and stored[0]["path"] == rows[0]["path"]
        # what results publish is exactly the hash of the manifest's own (relative) test rows
        manifest_rows = [r for r in read_manifest(folder / "manifest.jsonl") if r["split"] == "test"]
        assert digest == provenance_hash(rows) == manifest_hash(manifest_rows)
    a, b = selections
    assert [r["path"] for r in a] != [r["path"] for r in b]            # local paths differ ...
    assert provenance_hash(a) == provenance_hash(b)                    # ... the provenance does not
    assert manifest_hash(a) != manifest_hash(b)                        # (what was hashed before)
    assert [published_path(r) for r in a] == [published_path(r) for r in b]
    assert published_path(a[0]) == "synth/images/test_0_0/0.png"


def test_same_data_in_two_cache_roots_gives_the_same_published_provenance(tmp_path):
    from fsfm_bench.protocols.run import run

    folders = _two_caches(tmp_path, splits=(("train", 3), ("val", 2), ("test", 2)), frames=2)
    results, scores, train_rows = [], [], []
    for folder in folders:
        work = folder.parents[2]
        cfg = synth_config(work, folder, epochs=2)
        cfg["data"]["cache_dir"] = str(folder.parents[1])
        (outcome,) = run(cfg, log=lambda _msg: None, progress=False)
        result = json.loads(outcome.result_path.read_text())
        results.append(result)
        scores.append(pd.read_csv(outcome.result_path.parent / result["scores_file"]))
        train_file = next((work / "runs").rglob("train.jsonl"))
        train_rows.append([json.loads(line) for line in train_file.read_text().splitlines()])
    a, b = results
    assert set(a["data"]) == set(b["data"]) == {"train/synth", "val/synth", "test/unseen"}
    for key in a["data"]:
        assert a["data"][key]["manifest_hash"] == b["data"][key]["manifest_hash"], key
    manifest = read_manifest(folders[0] / "manifest.jsonl")
    assert a["data"]["test/unseen"]["manifest_hash"] == manifest_hash([r for r in manifest if r["split"] == "test"])
    # per-sample scores publish "<dataset>/<path in the prepared folder>", never a local path
    paths_a, paths_b = scores[0]["path"].tolist(), scores[1]["path"].tolist()
    assert paths_a == paths_b
    assert (scores[0]["split"] == "test").sum() == 2 * 2 * 2       # plus the source validation rows
    assert paths_a[0] == "synth/images/test_0_0/0.png"
    assert not any(str(tmp_path) in p for p in paths_a)
    # the run's own split file: image and parsing paths both absolute, in the same prepared copy
    for folder, rows in zip(folders, train_rows, strict=True):
        for r in rows:
            assert Path(r["path"]).parent.parent.parent == Path(r["parsing"]).parent.parent.parent == folder.resolve()
            assert Path(r["parsing"]).is_file()
