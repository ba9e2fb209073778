"""CPU smoke runs of the GPU benchmark scripts, so they do not rot between the rare GPU sessions.

No GPU is lent to the project most of the time, so a renamed flag or a broken import in
benchmarks/*.py would only show up when a (short, precious) GPU session is wasted on it. These
tests run each script's CPU path with tiny sizes in a subprocess and check the figures it prints,
and check that every command benchmarks/gpu_session.sh runs parses with the script's own argparse.
Nothing here asserts a speed: only that the figures exist, are finite and positive, are
consistent with each other, and that the scripts' built-in correctness checks really run.
"""
from __future__ import annotations

import ast
import json
import math
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
SESSION = BENCH / "gpu_session.sh"


def _run(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``python *args`` from the repo root, offline and single-threaded; fail with its stderr."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (f"{' '.join(args)} exited {proc.returncode}\n"
                                  f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-4000:]}")
    return proc


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


# --------------------------------------------------------------------------- pretrain_gpu.py

def test_pretrain_gpu_smoke_runs_fsfm_and_mae():
    data = json.loads(_run(["benchmarks/pretrain_gpu.py", "--smoke"]).stdout)
    assert (data["device"], data["model"], data["batch"], data["amp"]) == ("cpu", "tiny", 4, "fp32")
    runs = {r["algo"]: r for r in data["runs"]}
    assert list(runs) == ["fsfm", "mae"]
    for algo, r in runs.items():
        assert math.isfinite(r["last_loss"]), (algo, r)
        assert _positive(r["gflop_per_step"]), (algo, r)
        assert _positive(r["step_s"]) and _positive(r["images_per_s"]), (algo, r)
        assert isinstance(r["fused_attention_modules"], int) and r["fused_attention_modules"] > 0, (algo, r)
        assert "peak_mem_gib" not in r and "mfu" not in r      # CUDA/peak-only figures stay out on the CPU
    # fsfm runs more attention (EMA target encoder + rep decoder) than mae: a structural, untimed fact.
    assert runs["fsfm"]["fused_attention_modules"] > runs["mae"]["fused_attention_modules"]
    # The time ratio is reported and consistent with the per-algo step times (not asserted > 1: timed).
    ratio = data["time_ratio_fsfm_over_mae"]
    assert _positive(ratio)
    assert ratio == pytest.approx(runs["fsfm"]["step_s"] / runs["mae"]["step_s"], rel=0.05, abs=0.01)


def test_pretrain_gpu_bf16_autocast_and_flop_count():
    """The bf16 autocast path through main(), then the script's FLOP counter on both algorithms
    (unrounded: the JSON rounds GFLOP to 0.1, which hides the difference at tiny sizes)."""
    code = textwrap.dedent("""
        import contextlib, io, json, sys
        sys.path.insert(0, "benchmarks")
        import pretrain_gpu
        from pretrain_step import Step
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = pretrain_gpu.main(["--device", "cpu", "--model", "tiny", "--batch", "4", "--amp", "bf16",
                                    "--steps", "1", "--warmup", "1", "--algos", "fsfm"])
        flops = {a: pretrain_gpu.step_flops(Step(a, "tiny", 4, "cpu", "fp32", "crfr_p")) for a in ("fsfm", "mae")}
        print(json.dumps({"rc": rc, "bf16": json.loads(buf.getvalue()), "flops": flops}))
    """)
    out = json.loads(_run(["-c", code]).stdout)
    assert out["rc"] == 0
    bf16 = out["bf16"]
    assert bf16["amp"] == "bf16" and [r["algo"] for r in bf16["runs"]] == ["fsfm"]
    run = bf16["runs"][0]
    assert math.isfinite(run["last_loss"]) and run["last_loss"] > 0
    assert _positive(run["gflop_per_step"]) and run["fused_attention_modules"] > 0
    assert "time_ratio_fsfm_over_mae" not in bf16        # only one algorithm ran
    flops = out["flops"]
    assert _positive(flops["mae"])
    assert flops["fsfm"] > flops["mae"]                   # fsfm adds the target forward + ID branch


def test_pretrain_gpu_profile_reports_operator_shares():
    data = json.loads(_run(["benchmarks/pretrain_gpu.py", "--smoke", "--profile", "1", "--algos", "mae"]).stdout)
    top = data["runs"][0]["top_ops"]
    assert 1 <= len(top) <= 8
    shares = [o["share"] for o in top]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0 + 1e-6
    assert all(o["op"] and o["calls_per_step"] >= 1 and o["self_ms_per_step"] >= 0 for o in top)
    assert any(o["op"] in ("aten::mm", "aten::addmm", "aten::bmm") for o in top), top  # a ViT step is matmuls


def test_gpu_ceiling_cpu_smoke():
    data = json.loads(_run(["benchmarks/gpu_ceiling.py", "--device", "cpu", "--size", "128",
                            "--copy-mib", "4", "--repeat", "2"]).stdout)
    assert data["matmul_n"] == 128 and _positive(data["matmul_tflops"])
    assert _positive(data["copy_tb_per_s_read_plus_write"])


# --------------------------------------------------------------------------- evaluate.py

ROW = re.compile(r"^\| (\d+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|$")


def test_evaluate_cpu_prints_a_numeric_path_over_bare_ratio():
    # evaluate.py exits non-zero unless the scoring path scored every image and its scores equal
    # the bare forward's (1e-5 in fp32): the figure compares the same work.
    out = _run(["benchmarks/evaluate.py", "--device", "cpu", "--arch", "tiny", "--images", "64",
                "--size", "64", "--batch-size", "16", "--workers", "0", "--repeat", "1"]).stdout
    lines = out.splitlines()
    assert lines[0].startswith("# tiny @ 64px, 64 images, batch 16, 0 workers, AMP False"), lines[0]
    rows = [ROW.match(line) for line in lines if ROW.match(line)]
    assert len(rows) == 1, out
    repeat, bare, loader, first, path, ratio = (float(g) for g in rows[0].groups())
    assert repeat == 1 and _positive(bare) and _positive(path) and _positive(ratio)
    assert _positive(loader) and first >= 0
    # ratio = bare seconds / path seconds = path img/s / bare img/s (same image count), up to rounding
    assert ratio == pytest.approx(path / bare, rel=0.02, abs=0.002)
    median = re.search(r"^median path / bare = ([0-9.]+) ", out, re.M)
    assert median and float(median.group(1)) == pytest.approx(ratio, abs=1e-9)


# --------------------------------------------------------------------------- masking.py

MASKING_ARGS = ["--device", "cpu", "--batch", "4", "--size", "64", "--patch", "16", "--rounds", "1",
                "--per-round", "1", "--threads", "1"]


def test_masking_cpu_json_has_a_positive_speedup(tmp_path):
    target = tmp_path / "masking.json"
    out = _run(["benchmarks/masking.py", *MASKING_ARGS, "--json", str(target)]).stdout
    fig = json.loads(target.read_text())
    assert (fig["device"], fig["loop_device"], fig["batch"], fig["size"], fig["patch"]) == ("cpu", "cpu", 4, 64, 16)
    assert fig["threads"] == 1 and fig["mask_ratio"] == 0.75
    for key in ("batched_ms_median", "batched_ms_best", "loop_ms_median", "loop_ms_best", "speedup_median",
                "speedup_best", "speedup_median_of_rounds", "batched_maps_per_s"):
        assert _positive(fig[key]), (key, fig[key])
    assert len(fig["speedup_per_round"]) == 1 and _positive(fig["speedup_per_round"][0])
    assert fig["speedup_median"] == pytest.approx(fig["loop_ms_median"] / fig["batched_ms_median"])
    assert "| **speed-up** |" in out


def test_masking_agreement_check_catches_a_disagreeing_loop():
    """masking.py checks that batched and loop agree on focus and K per row before timing (and
    exits with the reason otherwise); prove the check runs by feeding it a loop that disagrees."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, "benchmarks")
        import masking
        orig = masking.crfr_p_loop
        def flip_focus(*a, **k):
            mask, focus = orig(*a, **k)
            focus = focus.clone(); focus[0, 0] = ~focus[0, 0]
            return mask, focus
        def extra_mask(*a, **k):
            mask, focus = orig(*a, **k)
            mask = mask.clone(); mask[0] = True
            return mask, focus
        for name, fn in (("focus", flip_focus), ("count", extra_mask)):
            masking.crfr_p_loop = fn
            try:
                masking.main({MASKING_ARGS!r})
            except SystemExit as exc:
                print(name, "caught", exc)
            else:
                print(name, "missed")
    """)
    out = _run(["-c", code]).stdout.splitlines()
    assert out[0] == "focus caught focus differs for region 0: batched and loop disagree", out
    assert out[1].startswith("count caught"), out


# --------------------------------------------------------------------------- perturb.py

def test_perturb_smoke_times_every_family_against_the_forward():
    out = _run(["benchmarks/perturb.py", "--smoke"]).stdout
    fig = json.loads(out.splitlines()[-1])
    assert (fig["device"], fig["arch"], fig["batch"], fig["size"], fig["level"], fig["amp"]) == \
        ("cpu", "tiny", 8, 64, 5, False)
    fams = fig["families"]
    assert list(fams) == ["CS", "CC", "BW", "GNC", "GB", "JPEG", "VC"]
    assert _positive(fig["forward_ms"])
    for code, f in fams.items():
        assert _positive(f["ms"]) and f["ratio"] == pytest.approx(f["ms"] / fig["forward_ms"]), (code, f)
    assert fams["VC"]["where"].startswith("loader") and all(f["where"] == "cpu" for c, f in fams.items() if c != "VC")
    image = {c: f["ratio"] for c, f in fams.items() if c != "VC"}
    assert fig["max_image_family"] == max(image, key=image.get) and fig["max_image_ratio"] == max(image.values())
    assert f"max image-family ratio: {fig['max_image_family']}" in out


# --------------------------------------------------------------------------- gpu_session.sh

def _session_steps() -> list[list[str]]:
    steps = [shlex.split(line.strip()) for line in SESSION.read_text().splitlines()
             if line.strip().startswith("step ")]
    assert steps, "gpu_session.sh runs no `step` lines"
    return steps


def test_gpu_session_script_is_valid_bash():
    proc = subprocess.run(["bash", "-n", str(SESSION)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_gpu_session_steps_name_real_scripts_and_tests(tmp_path):
    steps = _session_steps()
    names = [s[1] for s in steps]
    assert len(names) == len(set(names)), f"two steps write the same log: {names}"
    scripts = []
    for step in steps:
        _, name, limit, *cmd = step
        assert limit.isdigit() and int(limit) > 0, step
        assert cmd[0] in ("python3", "python"), step
        if cmd[1] == "-m":
            assert cmd[2] == "pytest", f"unexpected module in step {name}: {cmd[2]}"
            files = [a for a in cmd[3:] if a.endswith(".py")]
            assert files, step
            for f in files:
                assert (REPO / f).is_file(), f"step {name} names {f}, which does not exist"
            if "-k" in cmd:                      # the selection must pick at least one test
                expr = cmd[cmd.index("-k") + 1]
                tests = [n.name for f in files for n in ast.walk(ast.parse((REPO / f).read_text()))
                         if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
                assert any(expr.lower() in t.lower() for t in tests), f"-k {expr} selects nothing in {files}"
        else:
            assert (REPO / cmd[1]).is_file(), f"step {name} names {cmd[1]}, which does not exist"
            scripts.append(cmd[1])
    assert scripts


def test_gpu_session_flags_parse_with_each_scripts_argparse(tmp_path):
    """Parse every step's real argument list with the script's own parser (types and choices
    included), stopping right after parse_args, so a renamed flag fails here, not on the GPU."""
    calls = []
    for _, name, _, *cmd in _session_steps():
        if cmd[1] != "-m":
            argv = [a.replace("$OUT", str(tmp_path)).replace("${OUT}", str(tmp_path)) for a in cmd[2:]]
            calls.append([name, cmd[1], argv])
    code = textwrap.dedent("""
        import argparse, contextlib, io, json, runpy, sys
        class Parsed(Exception):
            pass
        parse = argparse.ArgumentParser.parse_args
        def stop_after_parse(self, args=None, namespace=None):
            raise Parsed({k: str(v) for k, v in vars(parse(self, args, namespace)).items()})
        argparse.ArgumentParser.parse_args = stop_after_parse
        results = []
        for name, script, argv in json.loads(sys.argv[1]):
            sys.argv = [script, *argv]
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err):
                    runpy.run_path(script, run_name="__main__")
                results.append([name, "ran to the end without parsing", None])
            except Parsed as exc:
                results.append([name, "ok", exc.args[0]])
            except SystemExit as exc:
                results.append([name, f"exit {exc.code}: {err.getvalue().strip()[-500:]}", None])
        print(json.dumps(results))
    """)
    results = json.loads(_run(["-c", code, json.dumps(calls)]).stdout.splitlines()[-1])
    assert [r[0] for r in results] == [c[0] for c in calls]
    bad = [f"{name}: {status}" for name, status, _ in results if status != "ok"]
    assert not bad, "gpu_session.sh passes flags its scripts reject:\n" + "\n".join(bad)
    for name, _, namespace in results:
        assert namespace["device"] == "cuda", f"step {name} would not run on the GPU: {namespace}"
