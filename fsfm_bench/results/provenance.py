"""Provenance a result records: package versions, git revision and dirty flag, hardware.

Everything here is best effort and never raises: a missing git binary or an uninstalled package is
recorded as null, because a result without provenance is worse than one with a null field.
"""
from __future__ import annotations

import importlib.metadata as md
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

#: distributions whose versions change numbers (data decoding, models, metrics)
PACKAGES = ("fsfm-bench", "torch", "torchvision", "timm", "mmengine-lite", "mmengine", "numpy", "scipy",
            "scikit-learn", "pandas", "kornia", "decord", "av", "opencv-python-headless", "dlib-bin",
            "pillow", "safetensors", "huggingface_hub", "jsonschema", "pluggy")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """distribution -> installed version, or None when it is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_info(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the checkout that holds ``path`` (default: the fsfm_bench package).

    Read-only git calls; both fields are None outside a git checkout or before the first commit.
    """
    cwd = Path(path) if path else Path(__file__).resolve().parents[1]
    revision = _git(["rev-parse", "HEAD"], cwd)
    if revision is None:
        return {"revision": None, "dirty": None}
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return {"revision": revision, "dirty": None if status is None else bool(status)}


def hardware_info() -> dict[str, Any]:
    """CPU, memory and (when torch is already imported) GPU names and CUDA/cuDNN versions."""
    info: dict[str, Any] = {"machine": platform.machine(), "processor": platform.processor() or "",
                            "cpu_count": os.cpu_count(), "memory_gb": None, "gpus": [], "cuda": None,
                            "cudnn": None}
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 2)
    except (ValueError, OSError, AttributeError):
        pass
    torch = sys.modules.get("torch")      # never import torch just to describe the machine
    if torch is not None:
        try:
            info["cuda"] = torch.version.cuda
            if torch.cuda.is_available():
                info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
                info["cudnn"] = torch.backends.cudnn.version()
        except Exception:  # noqa: BLE001 - provenance is best effort
            pass
    return info


def plugin_list() -> list[dict[str, Any]]:
    """Loaded plugins (name, distribution, version), when plugins were loaded in this process.

    Never loads them itself: describing a run must not import every plugin's dependencies.
    """
    plugins = sys.modules.get("fsfm_bench.plugins")
    loaded = getattr(plugins, "_loaded", None) if plugins is not None else None
    if not loaded:
        return []
    return [{"name": p.name, "distribution": p.distribution, "version": p.version,
             **({"error": p.error} if p.error else {})} for p in loaded]


def environment() -> dict[str, Any]:
    """The ``environment`` block of a result."""
    from .. import __version__

    return {"fsfm_bench_version": __version__, "python": platform.python_version(),
            "platform": platform.platform(), "packages": package_versions(), "plugins": plugin_list(),
            "git": git_info(), "hardware": hardware_info()}
