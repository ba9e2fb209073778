"""``fsfm-bench eval``: a protocol's evaluation for a checkpoint fine-tuned elsewhere (nothing trains)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError
from ..io import sha256_file


def evaluate(cfg: dict[str, Any], checkpoint: str, *, seed: int = 0, log=print) -> list:
    """Resolve the protocol's data, score its targets with ``checkpoint``, write result + leaderboard."""
    import torch

    from .data import DataResolver
    from .run import (_backbone_block, _fmt_results, build_splits, evaluate_checkpoint, rebuild_leaderboard,
                      resolve_protocols)

    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise FsfmBenchError(f"checkpoint {path} does not exist")
    meta = torch.load(path, map_location="cpu", weights_only=True).get("meta", {})
    if "model" not in meta:
        raise FsfmBenchError(f"{path} is not a fine-tuned fsfm-bench checkpoint (no meta.model)")
    policy = meta.get("policy")
    if cfg.get("selection") is None and policy in ("source_val", "last", "target_oracle"):
        cfg["selection"] = policy               # the result says how this checkpoint was chosen
    protocols = resolve_protocols(cfg)
    resolver = DataResolver(cfg)
    for note in resolver.check(protocols):
        log(f"note: {note}")
    sha = sha256_file(path)
    bb_cfg = meta["model"]["backbone"]
    probe = {"checkpoint": {"sha256": sha, "path": str(path), "card": None}}
    block = _backbone_block(bb_cfg["type"], {"backbone": bb_cfg}, {})
    workdir = Path(cfg.get("work_dir") or "runs") / "eval" / sha[:12]
    outcomes = []
    for protocol in protocols:
        resolver.prepare(protocol)
        splits = build_splits(protocol, resolver, workdir / (protocol.variant or "") / "data", False)
        outcome = evaluate_checkpoint(protocol, splits, path, cfg, seed=seed, backbone_block=block,
                                      pretrained=probe["checkpoint"], config_digest=None, started=time.time(),
                                      results_dir=Path(cfg["leaderboard"].get("results_dir") or "results"), log=log)
        log(f"result: {outcome.result_path}  ({outcome.forwarded} images scored now)")
        for line in _fmt_results(outcome.results):
            log(line)
        outcomes.append(outcome)
    if cfg["leaderboard"].get("rebuild", True):
        rebuild_leaderboard(cfg, log)
    return outcomes
