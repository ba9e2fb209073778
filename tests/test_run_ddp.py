"""The protocol run under ``torchrun --nproc_per_node=2`` on CPU (gloo): both ranks train with
DDP, only rank 0 evaluates, and exactly one result is written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from run_testutil import make_prepared

from fsfm_bench.results import read_result

HERE = Path(__file__).resolve().parent


def test_run_under_torchrun_two_ranks(tmp_path):
    make_prepared(tmp_path / "data")
    script = tmp_path / "ddp_run.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        from pathlib import Path
        from run_testutil import synth_config
        from fsfm_bench.protocols.run import run
        tmp = Path({str(tmp_path)!r})
        out = run(synth_config(tmp, tmp / "data", epochs=2), log=lambda s: None, progress=False)
        import os
        Path(tmp / f"rank{{os.environ['RANK']}}.json").write_text(json.dumps([str(o.result_path) for o in out]))
    """))
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(torchrun), "--nproc_per_node=2", str(script)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    rank1 = json.loads((tmp_path / "rank1.json").read_text())
    assert len(rank0) == 1 and rank1 == []
    assert len(list((tmp_path / "results").glob("result_*.json"))) == 1
    result = read_result(rank0[0])
    assert result["results"]["unseen"]["frame"]["auc"]["n"] == 24
    history = json.loads(next((tmp_path / "runs").rglob("selection.json")).read_text())["history"]
    assert [h["iter"] for h in history] == [2, 4]          # 36 images, batch 8 per rank, 2 ranks
