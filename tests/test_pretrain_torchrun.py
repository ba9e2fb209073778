"""`torchrun --nproc_per_node=2 -m fsfm_bench pretrain ...` on the CPU (gloo) trains, checkpoints
and exports once (rank 0), with the learning rate scaled by the global batch."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pretrain_synth as ps
import pytest
import torch


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun not installed beside the interpreter")
def test_torchrun_two_ranks_gloo(tmp_path):
    manifest = ps.write_manifest(tmp_path / "data", n=8, size=32)
    work = tmp_path / "work"
    torchrun = str(Path(sys.executable).parent / "torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [torchrun, "--standalone", "--nproc_per_node=2", "-m", "fsfm_bench", "pretrain",
           "recipe=fsfm_tiny", f"data={manifest}", "masking=crfr_p", f"work_dir={work}",
           "model.img_size=32", "model.patch_size=8", "model.embed_dim=32", "model.depth=1",
           "data.batch_size=2", "schedule.epochs=1", "optim.blr=0.256"]
    # own process group, so that a hang is cleaned up completely (torchrun's workers included)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("torchrun pretraining did not finish in 240 s")
    assert proc.returncode == 0, (out[-2000:], err[-3000:])
    assert (work / "export" / "checkpoint-encoder.pth").is_file()
    card = json.loads((work / "export" / "card.json").read_text())
    assert card["architecture"]["embed_dim"] == 32
    state = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)
    # 8 images / 2 ranks / batch 2 = 2 iterations; lr = 0.256 x (2 x 2) / 256 = 0.004
    assert state["meta"]["iter"] == 2
    assert state["optimizer"]["param_groups"][0]["initial_lr"] == pytest.approx(0.004)
