"""CLI start-up: CPU and wall time of the listing commands against `python -c pass` and the eager path.

Each command runs in a fresh interpreter, as a user's shell would start it; its CPU time is the
child's user + system time (``resource.getrusage(RUSAGE_CHILDREN)``), which a loaded machine
inflates far less than wall time. Two baselines, measured in the same run and interleaved with the
commands: the bare interpreter (``python -c pass``) and the eager path, i.e. ``ls backbones`` after
importing every plugin (what every listing did before plugins had index files).

    python benchmarks/cli_startup.py                 # 5 rounds, median per command
    python benchmarks/cli_startup.py --rounds 1      # quick

Prints a Markdown table (median CPU s, median wall s, CPU ratios) and one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

EAGER = ("from fsfm_bench.plugins import load_plugins; load_plugins(); "
         "from fsfm_bench.cli import main; raise SystemExit(main(['ls', 'backbones']))")
CLI = "import sys; from fsfm_bench.cli import main; raise SystemExit(main(sys.argv[1:]))"

COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": ["-c", "pass"],
    "eager: ls backbones after importing every plugin (baseline)": ["-c", EAGER],
    "fsfm-bench ls backbones": ["-c", CLI, "ls", "backbones"],
    "fsfm-bench plugins": ["-c", CLI, "plugins"],
    "fsfm-bench --help": ["-c", CLI, "--help"],
    "fsfm-bench config protocol=demo backbone=fsfm": ["-c", CLI, "config", "protocol=demo", "backbone=fsfm"],
}


def measure(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh interpreter running ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    args = parser.parse_args(argv)
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():               # warm the file cache once, unmeasured
        measure(command)
    for _ in range(max(1, args.rounds)):
        for name, command in COMMANDS.items():
            c, w = measure(command)
            cpu[name].append(c)
            wall[name].append(w)
    med = {name: (statistics.median(cpu[name]), statistics.median(wall[name])) for name in COMMANDS}
    bare = med["python -c pass (baseline)"][0]
    eager = med["eager: ls backbones after importing every plugin (baseline)"][0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {args.rounds} round(s), median per command; load average {load:.2f}; {os.cpu_count()} CPUs")
    print("| command | CPU s | wall s | CPU / python -c pass | CPU / eager |")
    print("|---|---:|---:|---:|---:|")
    for name, (c, w) in med.items():
        print(f"| {name} | {c:.3f} | {w:.3f} | {c / bare:.2f} | {c / eager:.3f} |")
    print(json.dumps({"rounds": args.rounds, "load": load,
                      "cpu_s": {n: round(c, 4) for n, (c, _w) in med.items()},
                      "wall_s": {n: round(w, 4) for n, (_c, w) in med.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
