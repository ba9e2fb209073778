"""The demo dataset build, and resume of a SIGKILLed `fsfm-bench prepare` process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from fsfm_bench.cli import main
from fsfm_bench.data import prepare as prep
from fsfm_bench.data.manifest import read_manifest


@pytest.fixture(scope="module")
def demo_a(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "a"
    t0 = time.time()
    assert main(["prepare", "dataset=demo", f"out={out}", "progress=false"]) == 0
    return out, time.time() - t0


def test_demo_build_counts_families_and_exact_masks(demo_a):
    out, elapsed = demo_a
    assert elapsed < 60
    summary = json.loads((out / "summary.json").read_text())
    rows = read_manifest(out / "manifest.jsonl")
    real = [r for r in rows if r["label"] == 0]
    fake = [r for r in rows if r["label"] == 1]
    assert len(real) == 48 and len(fake) == 48 and summary["failures"] == 0
    # an augmented copy is the same photo, not another video: 3 clips + 1 photo, and their fakes
    assert summary["counts"]["train"] == {"frames": 48, "real": 24, "fake": 24, "videos": 12}
    copies = [r for r in real if r["meta"].get("augment")]
    assert copies and all(r["video_id"] == r["meta"]["augment_of"] for r in copies)
    assert all(r["parsing"] for r in real)
    assert all((r["parsing"] is None) == (r["manipulation"] == "replay_attack") for r in fake)
    fam = {s: {r["manipulation"] for r in fake if r["split"] == s} for s in ("train", "val", "test")}
    assert fam["train"] == fam["val"] == {"sbi", "region"}
    assert fam["test"] == {"face_swap", "print_attack", "replay_attack"}
    ids = {s: {r["meta"].get("identity") for r in real if r["split"] == s} for s in ("train", "val", "test")}
    assert ids["test"] == {"obama", "biden"} and not ids["test"] & (ids["train"] | ids["val"])
    for r in fake:
        mask = cv2.imread(str(out / r["mask"]), cv2.IMREAD_GRAYSCALE)
        f_img = cv2.imread(str(out / r["path"]))
        src = cv2.imread(str(out / r["meta"]["real"]))
        assert (f_img[mask == 0] == src[mask == 0]).all()               # exact masks, on disk too
        assert (mask > 0).any()


def test_killed_parallel_subprocess_resumes_to_the_same_manifest(tmp_path, demo_a):
    """SIGKILL a real 2-worker `fsfm-bench prepare` mid-run, rerun it: finished media are kept, and
    the manifest equals an uninterrupted single-worker build (deterministic)."""
    out = tmp_path / "demo"
    cmd = [sys.executable, "-m", "fsfm_bench", "prepare", "dataset=demo", f"out={out}", "progress=false",
           "workers=2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    state = out / prep.STATE_DIR / "real"
    deadline = time.time() + 90
    while time.time() < deadline and len(list(state.glob("*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "prepare ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)              # the process and its workers, as a crash would
    proc.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in state.glob("*.json")}
    assert 2 <= len(done_before) < 8                 # killed mid-run
    assert not (out / "manifest.jsonl").exists()
    assert main(["prepare", "dataset=demo", f"out={out}", "progress=false"]) == 0
    for name, mtime in done_before.items():           # finished items were not redone
        assert (state / name).stat().st_mtime_ns == mtime
    assert not list(out.rglob("*.tmp"))
    summary = json.loads((out / "summary.json").read_text())
    reference = json.loads((demo_a[0] / "summary.json").read_text())
    assert summary["manifest_sha256"] == reference["manifest_sha256"]
