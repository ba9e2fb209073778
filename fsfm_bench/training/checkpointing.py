"""Training checkpoints that a kill cannot wedge and a run folder cannot use to run code.

mmengine's own checkpointing has three weaknesses this module closes for every Runner fsfm-bench
builds (fine-tuning and pretraining):

- **Resume unpickles anything.** ``Runner.resume`` calls ``torch.load(weights_only=False)`` on
  the file ``last_checkpoint`` names, so a pickle planted in a run folder runs its code.
  :class:`SafeRunner` loads every checkpoint with :func:`fsfm_bench.checkpoints.safe_load.load_file`
  (tensors, plain containers and a short allowlist; never arbitrary unpickling). The one
  non-plain object mmengine puts in a checkpoint, the message hub's ``HistoryBuffer``, is stored
  as plain lists (:func:`plain_message_hub`) and rebuilt on load.
- **A kill at a checkpoint boundary wedges the run.** mmengine deletes the previous checkpoint
  *before* writing the new one in place, then rewrites ``last_checkpoint`` in place.
  :class:`AtomicCheckpointHook` writes the new checkpoint to a temporary file, fsyncs and renames
  it, then replaces the pointer atomically, and only then deletes the checkpoint it supersedes.
  Whatever instant a kill hits, the folder holds a complete checkpoint and a pointer naming one
  (or no pointer, and :func:`latest_checkpoint` finds the newest complete file).
- **The pointer holds an absolute path**, so a copied run folder resumed from the original's files.
  The pointer now holds a file name in the work dir, and an old absolute one is read by its name.

A full disk while writing a checkpoint is reported as one line naming the folder
(:func:`fsfm_bench.io.disk_full`), with the previous checkpoint untouched.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from ..errors import FsfmBenchError
from ..io import atomic_write_text, disk_full, fsync_dir, is_disk_full
from ..registry import HOOKS

POINTER = "last_checkpoint"
STEP_FILE = re.compile(r"^(?:epoch|iter)_(\d+)\.pth$")
_BUFFER = "__history_buffer__"


# --- finding and loading ------------------------------------------------------------------------
def _step_files(work_dir: Path) -> list[Path]:
    """``epoch_N.pth`` / ``iter_N.pth`` of a work dir, oldest step first (all complete: see the hook)."""
    found = [(int(m.group(1)), p) for p in work_dir.glob("*.pth") if (m := STEP_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(work_dir: str | os.PathLike) -> Path | None:
    """The checkpoint a run in ``work_dir`` resumes from, always a file inside ``work_dir``.

    The pointer names a file of the folder (older runs wrote an absolute path: only its name is
    used, so a copied folder resumes from its own files). A pointer that is missing, empty or
    names no file (a kill while mmengine rewrote it) falls back to the newest complete
    ``epoch_N.pth``/``iter_N.pth``; None when there is nothing to resume."""
    folder = Path(work_dir)
    if not folder.is_dir():
        return None
    pointer = folder / POINTER
    if pointer.is_file():
        name = Path(pointer.read_text(encoding="utf-8", errors="replace").strip()).name
        if name and (folder / name).is_file():
            return folder / name
    steps = _step_files(folder)
    return steps[-1] if steps else None


def has_checkpoint(work_dir: str | os.PathLike) -> bool:
    """Resume only when there is something to resume (see :func:`latest_checkpoint`)."""
    return latest_checkpoint(work_dir) is not None


def load_run_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A training checkpoint of a run folder, loaded without unpickling code; one clear error
    naming the file (and what to delete) when it is refused or damaged."""
    from ..checkpoints.safe_load import UnsafeCheckpointError, load_file

    path = Path(path)
    try:
        checkpoint = load_file(path)
    except UnsafeCheckpointError:
        raise FsfmBenchError(
            f"refusing to resume from {path}: it is not a checkpoint fsfm-bench wrote (loading it would need "
            f"full unpickling, which can run code); nothing was loaded. Delete it and {path.parent / POINTER} "
            "if you do not trust where this run folder came from, then rerun") from None
    except FsfmBenchError:
        raise FsfmBenchError(
            f"cannot resume from {path}: the file is truncated or not a checkpoint; delete it (and "
            f"{path.parent / POINTER}) and rerun to resume from an earlier checkpoint or start that training "
            "over") from None
    if not isinstance(checkpoint, dict) or "meta" not in checkpoint:
        raise FsfmBenchError(f"cannot resume from {path}: it holds no training state (no 'meta'); delete it "
                             f"(and {path.parent / POINTER}) and rerun")
    if isinstance(checkpoint.get("message_hub"), dict):
        checkpoint["message_hub"] = restored_message_hub(checkpoint["message_hub"])
    return checkpoint


def plain_message_hub(state: dict[str, Any]) -> dict[str, Any]:
    """The message hub's state with every ``HistoryBuffer`` as plain lists (a weights-only load reads it)."""
    from mmengine.logging import HistoryBuffer

    scalars = {}
    for key, value in (state.get("log_scalars") or {}).items():
        if isinstance(value, HistoryBuffer):
            log, count = value.data
            value = {_BUFFER: True, "log": log.tolist(), "count": count.tolist(), "max_length": int(value.max_length)}
        scalars[key] = value
    return {**state, "log_scalars": scalars}


def restored_message_hub(state: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`plain_message_hub`."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    scalars = {}
    for key, value in (state.get("log_scalars") or {}).items():
        if isinstance(value, dict) and value.get(_BUFFER):
            buffer = HistoryBuffer(max_length=value["max_length"])
            buffer._log_history = np.asarray(value["log"])
            buffer._count_history = np.asarray(value["count"])
            value = buffer
        scalars[key] = value
    return {**state, "log_scalars": scalars}


class SafeRunner(Runner):
    """mmengine's Runner, resuming only through :func:`latest_checkpoint` and :func:`load_run_checkpoint`."""

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            found = latest_checkpoint(self.work_dir)
            if found is not None:
                self.resume(str(found))
                self._has_loaded = True
            return None
        return super().load_or_resume()

    def load_checkpoint(self, filename: str, map_location: Any = "cpu", strict: bool = False,
                        revise_keys: list = [(r"^module.", "")]):  # noqa: B006 - mmengine's signature
        from mmengine.model import is_model_wrapper
        from mmengine.runner.checkpoint import _load_checkpoint_to_model

        checkpoint = load_run_checkpoint(filename)
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f"Load checkpoint from {filename}")
        return checkpoint


# --- writing ------------------------------------------------------------------------------------
def _commit(tmp: Path, final: Path) -> None:
    """fsync the written file, rename it over ``final``, fsync the folder: complete or absent."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def write_pointer(work_dir: str | os.PathLike, checkpoint: str | os.PathLike) -> None:
    """``last_checkpoint`` := the checkpoint's name, relative to the work dir, replaced atomically."""
    work_dir, checkpoint = Path(work_dir), Path(checkpoint)
    try:
        rel = checkpoint.resolve().relative_to(work_dir.resolve()).as_posix()
    except ValueError:
        rel = checkpoint.name
    atomic_write_text(work_dir / POINTER, rel)


def save_atomically(runner, final: str | os.PathLike, **kwargs: Any) -> None:
    """``runner.save_checkpoint`` into a temporary sibling of ``final``, then :func:`_commit`."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        runner.save_checkpoint(str(final.parent), tmp.name, **kwargs)
        if is_main_process():
            _commit(tmp, final)
    except (OSError, RuntimeError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_disk_full(exc):
            raise disk_full(final.parent, exc) from None
        raise


def remove_stale_temporaries(work_dir: str | os.PathLike) -> None:
    """Delete ``.*.tmp`` files a killed save left in ``work_dir`` (they are never read)."""
    for tmp in Path(work_dir).glob(".*.pth.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def prune_training_checkpoints(work_dir: str | os.PathLike) -> None:
    """Delete a finished run's resume state (``epoch_N.pth``/``iter_N.pth``, the pointer): once
    training is over only the selected checkpoints are needed, and the resume state of a ViT-B
    (weights plus optimizer moments) is about three times the weights."""
    folder = Path(work_dir)
    if not folder.is_dir():
        return
    with contextlib.suppress(FileNotFoundError):
        (folder / POINTER).unlink()           # first: a pointer never names a deleted file
    for path in _step_files(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    remove_stale_temporaries(folder)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook with atomic saves, a relative pointer, deletion after the new
    checkpoint is complete, and weights-only-loadable contents (see the module docstring)."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            remove_stale_temporaries(self.out_dir)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if isinstance(checkpoint.get("message_hub"), dict):
            checkpoint["message_hub"] = plain_message_hub(checkpoint["message_hub"])

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        superseded: list[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                superseded.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))
        name = self.filename_tmpl.format(step)
        final = Path(self.out_dir) / name
        self.last_ckpt = str(final)
        runner.message_hub.update_info("last_ckpt", name)       # a name: the folder may move
        save_atomically(runner, final, file_client_args=self.file_client_args,
                        save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                        meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_pointer(runner.work_dir, final)
        self._drop(superseded)                       # only now: the new checkpoint is complete

    def _drop(self, steps: list[int]) -> None:
        """Delete the checkpoints of ``steps`` (superseded by a complete, pointed-to one)."""
        for step in steps:
            with contextlib.suppress(FileNotFoundError):
                (Path(self.out_dir) / self.filename_tmpl.format(step)).unlink()
