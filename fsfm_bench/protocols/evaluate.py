"""``fsfm-bench eval``: a protocol's evaluation for a checkpoint fine-tuned elsewhere (nothing trains).

Only what scoring needs is resolved: the targets, and the source validation data when the threshold
is ``source_val_eer`` (a training source without a root does not stop an evaluation). The result
cites the checkpoint the model was fine-tuned FROM (``checkpoint``, recorded by ``fsfm-bench run``
in the fine-tuned file's ``meta["pretrained"]``) and the fine-tuned file itself
(``checkpoint.finetuned``), exactly as the run's own result does, so evaluating a run's checkpoint
again lands on that run's leaderboard row instead of a new one.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError
from ..io import sha256_file
from ..paths import output_root, under


def resolve_device(device: str | None) -> str:
    """``auto`` (or unset) means CUDA when there is one, else the CPU; any other name is used as given."""
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def check_device(device: str | None, key: str = "device") -> None:
    """A ``device=`` the machine cannot honour is one clear error before anything loads."""
    import torch

    if device in (None, "", "auto"):
        return
    try:
        parsed = torch.device(str(device))
    except (RuntimeError, ValueError) as exc:
        from ..errors import UsageError

        raise UsageError(f"{key}={device!r} is not a device name; use {key}=cpu, cuda or cuda:N") from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise FsfmBenchError(f"{key}={device} requested but no CUDA device is available; use {key}=cpu")


def initial_weights(meta: dict[str, Any], finetuned_sha256: str, results_dir: Path,
                    log: Callable[[str], None]) -> dict[str, Any]:
    """The pretrained checkpoint block ``{sha256, path, card}`` the model was fine-tuned from.

    ``meta["pretrained"]`` (written by ``fsfm-bench run``) when present; for older files, the
    ``checkpoint`` block of an earlier result scored with this very file; otherwise unknown (null).
    """
    given = meta.get("pretrained")
    if isinstance(given, dict) and "sha256" in given:
        return {"sha256": given.get("sha256"), "path": given.get("path"), "card": given.get("card")}
    if results_dir.is_dir():
        for path in sorted(results_dir.rglob("*.json")):
            try:
                block = json.loads(path.read_text(encoding="utf-8")).get("checkpoint") or {}
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(block, dict) and (block.get("finetuned") or {}).get("sha256") == finetuned_sha256 \
                    and block.get("sha256") != finetuned_sha256:     # not an older eval that cited the file itself
                return {"sha256": block.get("sha256"), "path": block.get("path"), "card": block.get("card")}
    log("note: the checkpoint does not record the weights it was fine-tuned from (written before fsfm-bench "
        "recorded them); the result cites none")
    return {"sha256": None, "path": None, "card": None}


def recorded_normalization(meta: dict[str, Any]) -> dict[str, Any]:
    """The mean/std the fine-tuned model runs with, and their source, for the result's backbone block.

    ``meta["normalization"]`` (written by ``fsfm-bench run``) is the run's own record. An older file
    still holds the mean/std it was fine-tuned with in its model config, but not which source decided
    them: those are cited with source ``finetuned-checkpoint``."""
    given = meta.get("normalization")
    if isinstance(given, dict) and {"mean", "std", "source"} <= set(given):
        return {"mean": list(given["mean"]), "std": list(given["std"]), "source": given["source"]}
    model = meta["model"]
    return {"mean": [float(v) for v in model["mean"]], "std": [float(v) for v in model["std"]],
            "source": "finetuned-checkpoint"}


def eval_splits(protocol, resolver, folder: Path):
    """The rows eval scores: every available target, plus the source validation rows only when the
    threshold is ``source_val_eer``; the training sources are never read (nor prepared)."""
    from .data import eval_datasets, write_rows
    from .spec import Source
    from .splits import Splits, target_rows, validation_rows

    resolver.prepare(protocol, only=set(eval_datasets(protocol)))
    block: dict[str, Any] = {}
    val_rows: list[dict[str, Any]] = []
    if protocol.threshold == "source_val_eer":
        # a hold-out validation is cut from the training rows: read them only then
        holdout = not isinstance(protocol.validation, Source)
        train_rows = [row for src in protocol.train for row in resolver.rows_for(src)[0]] if holdout else []
        _, val_rows = validation_rows(protocol, resolver, train_rows, block)
    targets, skipped = target_rows(protocol, resolver, block)
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(folder / "val.jsonl", [{**r, "domain": "source_val"} for r in val_rows])
    return Splits(folder / "train.jsonl", folder / "val.jsonl", [], val_rows, targets, block, skipped)


def evaluate(cfg: dict[str, Any], checkpoint: str, *, seed: int = 0, log=print, out: str | None = None) -> list:
    """Resolve the data the protocol scores, score its targets with ``checkpoint``, write result + leaderboard
    (relative output folders under ``out``, see :func:`fsfm_bench.paths.output_root`)."""
    from ..finetune.model import read_finetuned_checkpoint
    from .data import DataResolver
    from .plan import _backbone_block, probe_backbone, resolve_protocols
    from .publish import rebuild_leaderboard, report_outcome
    from .seed_eval import SeedEval, evaluate_checkpoint
    from .settings import eval_settings, leaderboard_settings

    path = Path(checkpoint).expanduser()
    check_device((cfg.get("eval") or {}).get("device"), "eval.device")
    meta = read_finetuned_checkpoint(path)["meta"]       # one clear error for anything else
    policy = meta.get("policy")
    default = ((cfg.get("protocol") or {}).get("selection") or {}).get("policy")
    if cfg.get("selection") is None and policy in ("source_val", "last", "target_oracle") and policy != default:
        cfg["selection"] = policy               # the result says how this checkpoint was chosen
    protocols = resolve_protocols(cfg)
    resolver = DataResolver(cfg)
    for note in resolver.check(protocols, evaluation_only=True):
        log(f"note: {note}")
    sha = sha256_file(path)
    root = output_root(out)
    board = leaderboard_settings(cfg)
    results_dir = under(root, board.results_dir, "results")
    pretrained = initial_weights(meta, sha, results_dir, log)
    bb_cfg = meta["model"]["backbone"]
    # the architecture the run's result cites, from the backbone rebuilt without weights
    probe = {**probe_backbone({**bb_cfg, "checkpoint": None}), "checkpoint": pretrained}
    block = {**_backbone_block(bb_cfg["type"], {"backbone": bb_cfg}, probe),
             "normalization": recorded_normalization(meta)}
    workdir = under(root, cfg.get("work_dir"), "runs") / "eval" / sha[:12]
    outcomes = []
    for protocol in protocols:
        splits = eval_splits(protocol, resolver, workdir / (protocol.variant or "") / "data")
        for name in splits.skipped:
            log(f"note: optional target {name} skipped (no data configured)")
        job = SeedEval(protocol=protocol, splits=splits, checkpoint=path, config=cfg, eval=eval_settings(cfg),
                       seed=seed, backbone_block=block, pretrained=pretrained, config_digest=None,
                       results_dir=results_dir, started=time.time(), checkpoint_sha256=sha)
        outcome = evaluate_checkpoint(job, log)
        report_outcome(outcome, log)
        outcomes.append(outcome)
    if board.rebuild:
        rebuild_leaderboard(board, log, root)
    return outcomes
