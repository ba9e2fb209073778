"""`fsfm-bench pretrain data=...`: a dataset name resolves to its prepared folder in the cache (where
`fsfm-bench run` prepares it), the error lists every place looked, and DIR / DIR/manifest.jsonl /
NAME are one config (same hash, same work dir, resumable)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pretrain_synth as ps
import pytest
import yaml

from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.pretrain.source import resolve_manifest

TINY = ["model.img_size=32", "model.patch_size=8", "model.embed_dim=32", "model.depth=1",
        "model.num_heads=2", "model.decoder_embed_dim=32", "model.decoder_depth=1",
        "model.rep_decoder_depth=1", "data.batch_size=4", "schedule.epochs=1",
        "data.mean=[0.5,0.5,0.5]", "data.std=[0.25,0.25,0.25]"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache root and no user datasets file (nothing from the developer's home leaks in)."""
    monkeypatch.setenv("FSFM_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "no-datasets.yaml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def _variant(cache: Path, name: str, n: int = 4) -> Path:
    folder = cache / "prepared" / name
    manifest = ps.write_manifest(folder, n=n, size=32)
    (folder / "summary.json").write_text(json.dumps({"frames": {"rows": n}, "frames_per_video": n}))
    return manifest


def test_dataset_name_resolves_to_its_prepared_folder_in_the_cache(cache):
    manifest = _variant(cache, "demo-0123456789ab")
    _variant(cache, "demo2-aaaaaaaaaaaa")            # another dataset whose name starts alike
    (cache / "prepared" / "demo-bbbbbbbbbbbb").mkdir()  # an interrupted prepare: no manifest yet
    assert resolve_manifest("demo") == manifest.resolve()
    # a folder and its manifest resolve to the same absolute file
    assert resolve_manifest(str(manifest.parent)) == resolve_manifest(str(manifest)) == manifest.resolve()


def test_several_prepared_variants_are_listed_with_what_to_pass(cache):
    first = _variant(cache, "demo-0123456789ab", n=4)
    second = _variant(cache, "demo-fedcba987654", n=6)
    with pytest.raises(UsageError) as err:
        resolve_manifest("demo")
    message = str(err.value)
    assert "2 prepared variants" in message
    assert f"data={first.parent} (4 frames, frames per video 4)" in message
    assert f"data={second.parent} (6 frames, frames per video 6)" in message
    assert message.index(str(first.parent)) < message.index(str(second.parent))     # sorted


def test_missing_dataset_error_lists_every_place_looked(cache):
    with pytest.raises(FsfmBenchError) as err:
        resolve_manifest("demo")
    message = str(err.value)
    assert "data/prepared/demo/manifest.jsonl" in message
    assert f"{cache}/prepared/demo-<hash>/manifest.jsonl" in message
    assert "fsfm-bench prepare dataset=demo out=PATH" in message


def test_user_file_prepared_entry_is_used(cache, tmp_path, monkeypatch):
    manifest = ps.write_manifest(tmp_path / "elsewhere", n=2, size=32)
    user = tmp_path / "datasets.yaml"
    user.write_text(yaml.safe_dump({"prepared": {"mine": str(manifest.parent)}}))
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(user))
    assert resolve_manifest("mine") == manifest.resolve()


def _pretrain(options: list[str]) -> int:
    from fsfm_bench.commands import pretrain

    return pretrain.main(argparse.Namespace(options=options, debug=True))


def test_name_folder_and_manifest_are_one_config_and_resume(cache, tmp_path):
    manifest = _variant(cache, "synthset-0123456789ab", n=8)
    assert _pretrain(["recipe=fsfm_tiny", "data=synthset", "masking=random", *TINY]) == 0
    runs = sorted((tmp_path / "runs" / "pretrain").iterdir())
    assert len(runs) == 1 and (runs[0] / "export" / "checkpoint-encoder.pth").is_file()
    saved = yaml.safe_load((runs[0] / "config.yaml").read_text())
    assert saved["data"]["source"] == saved["data"]["manifest"] == str(manifest.resolve())
    digest = (runs[0] / "config.sha256").read_text().strip()
    # the same data named as a folder, then as its manifest: same config, same work dir, resumed
    for data in (str(manifest.parent), str(manifest)):
        assert _pretrain(["recipe=fsfm_tiny", f"data={data}", "masking=random", *TINY]) == 0
        assert sorted((tmp_path / "runs" / "pretrain").iterdir()) == runs
        assert (runs[0] / "config.sha256").read_text().strip() == digest
    # and an explicit work_dir with another spelling of the data resumes instead of refusing
    work = tmp_path / "work"
    assert _pretrain(["recipe=fsfm_tiny", f"data={manifest.parent}", "masking=random", f"work_dir={work}",
                      *TINY]) == 0
    assert _pretrain(["recipe=fsfm_tiny", f"data={manifest}", "masking=random", f"work_dir={work}", *TINY]) == 0
