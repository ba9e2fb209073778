"""Open checkpoint files without running code from them.

A ``.pth`` file is a pickle, and unpickling can call any Python function: a downloaded checkpoint is
therefore opened with ``torch.load(weights_only=True)`` (tensors, containers and a short allowlist of
inert types such as ``argparse.Namespace``, which official training checkpoints carry in ``args``) or
from safetensors. Anything else is refused with an explanation unless the caller passes
``trust=True`` (``trust_checkpoint=True`` in configs and on the command line).
"""
from __future__ import annotations

import argparse
import logging
import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError

log = logging.getLogger(__name__)


def _safe_globals() -> list[Any]:
    """Inert types that official checkpoints contain outside their tensors."""
    allowed: list[Any] = [argparse.Namespace]
    try:  # numpy scalars/dtypes appear in some ``args`` namespaces and scaler states
        import numpy as np

        try:
            from numpy._core.multiarray import scalar
        except ImportError:  # numpy < 2
            from numpy.core.multiarray import scalar  # type: ignore[no-redef]
        allowed += [scalar, np.dtype]
        allowed += [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    except Exception:  # noqa: BLE001 - numpy support is optional here
        pass
    return allowed


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile:
        return False
    return any("/code/" in n or n.endswith("constants.pkl") for n in names)


def _unsafe_globals(path: Path) -> list[str]:
    import torch

    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # noqa: BLE001 - only used to improve the message
        return []


class UnsafeCheckpointError(FsfmBenchError):
    """A file that would need full unpickling (it could run code), refused."""


def _refuse(path: Path, reason: str) -> FsfmBenchError:
    return UnsafeCheckpointError(
        f"refusing to open {path}: {reason}. Unpickling it could run arbitrary code. If you trust where "
        "it came from, pass trust_checkpoint=True (command line: trust_checkpoint=true); better, convert it "
        "once to safetensors or a plain state dict on a machine you do not mind risking.")


def _corrupt(path: Path, exc: BaseException) -> FsfmBenchError:
    size = path.stat().st_size if path.exists() else 0
    return FsfmBenchError(f"{path} ({size} bytes) is truncated or not a checkpoint "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                          "download it again and compare its sha256 with `fsfm-bench weights verify`")


def load_file(path: str | os.PathLike, trust: bool = False) -> Any:
    """Load a checkpoint file (state dict or training checkpoint) on the CPU, safely.

    ``.safetensors`` files are read with safetensors; TorchScript archives and pickles that need more
    than the weights-only allowlist are refused unless ``trust`` is True.
    """
    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file as st_load

        try:
            return st_load(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - safetensors raises several types
            raise _corrupt(path, exc) from exc
    if _is_torchscript(path):
        if not trust:
            raise _refuse(path, "it is a TorchScript archive (code plus weights, e.g. OpenAI's CLIP .pt)")
        log.warning("loading TorchScript archive %s because trust_checkpoint=True", path)
        return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" not in str(exc):
            raise _corrupt(path, exc) from exc
        if not trust:
            found = _unsafe_globals(path)
            detail = f" (it references {', '.join(found[:6])}{' ...' if len(found) > 6 else ''})" if found else ""
            raise _refuse(path, f"it needs full unpickling{detail}") from None
    except Exception as exc:  # noqa: BLE001 - the weights-only unpickler runs no code, so anything it
        # raises on a damaged file (KeyError, IndexError, struct.error, ...) means "not a checkpoint"
        raise _corrupt(path, exc) from exc
    log.warning("fully unpickling %s because trust_checkpoint=True", path)
    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, pickle.UnpicklingError) as exc:
        raise _corrupt(path, exc) from exc


def _is_tensor_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def unwrap(obj: Any, keys: tuple[str, ...] = ("model", "state_dict"), what: str = "checkpoint") -> dict[str, Any]:
    """The state dict inside ``obj``: ``obj`` itself, or ``obj[k]`` for the first ``k`` in ``keys``.

    Non-tensor entries (e.g. ``n_averaged`` counters) are tolerated only under a wrapper key.
    """
    import torch

    if _is_tensor_dict(obj):
        return dict(obj)
    if isinstance(obj, Mapping):
        for key in keys:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner:
                return {k: v for k, v in inner.items() if isinstance(v, torch.Tensor)}
        shown = ", ".join(map(str, list(obj)[:10]))
        raise FsfmBenchError(f"{what} holds no state dict under {' or '.join(map(repr, keys))}: its "
                             f"top-level keys are {shown}; is it a checkpoint of another model?")
    raise FsfmBenchError(f"{what} is a {type(obj).__name__}, not a state dict")
