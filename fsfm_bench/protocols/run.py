"""How a protocol run proceeds (``fsfm-bench run`` and ``fsfm-bench eval``).

1. resolve the protocol (variants, and the ``seeds=``/``selection=``/``threshold=`` shortcuts);
2. resolve and prepare every dataset BEFORE anything trains (a missing one is one clear error);
3. backbone: its configured checkpoint; for the demo with none, pretrain a tiny FSFM (cached);
4. per variant and seed: fine-tune on the Runner (resumable), keep one checkpoint per policy;
5. score every target row once with the checkpoint the protocol's policy selects (cached by
   checkpoint, manifest and preprocessing hashes; resumable);
6. metrics (fsfm_bench.results.compute_metrics), the result file with its per-sample scores, and the
   leaderboard rebuilt from every result file.

Run folder: ``<work_dir>/<id>@<version>/<backbone>/<training key[:12]>/[<variant>/]seed<k>/``
(:func:`.plan.training_key`); the same command twice reuses the folder, so a finished run is skipped and an interrupted one resumes.

The steps are modules, each testable alone: :mod:`.plan` (1-3: protocols, data, backbone, run
folder, split files; nothing fine-tunes), :mod:`.train_seed` (4: train or resume one seed, then
select its checkpoint), :mod:`.seed_eval` (5: score and compute metrics for one checkpoint, from a
frozen :class:`~.seed_eval.SeedEval`), :mod:`.publish` (6: result file, log lines, leaderboard).
:func:`run` only orders them and keeps the torchrun ranks in step.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from .data import DataResolver
from .plan import Ranks, make_plan, plan_variant, resolve_protocols
from .publish import rebuild_leaderboard, report_outcome
from .seed_eval import SeedEval, SeedOutcome, evaluate_checkpoint
from .settings import RunSettings
from .train_seed import seed_dir, select_checkpoint, train_seed, train_wall_time

Log = Callable[[str], None]


def run(cfg: dict[str, Any], *, log: Log = print, progress: bool = True,
        out: str | None = None) -> list[SeedOutcome]:
    """Execute ``fsfm-bench run`` for a resolved config (see the module docstring); relative output
    folders go under ``out`` (see :func:`fsfm_bench.paths.output_root`)."""
    from ..training.distributed import finish_distributed, init_distributed, world

    cfg = copy.deepcopy(cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg))
    started = time.time()
    settings = RunSettings.from_config(cfg)          # validated once; the raw cfg is only hashed and saved
    protocols = resolve_protocols(cfg)
    resolver = DataResolver(cfg, progress=progress)
    notes = resolver.check(protocols)                # before anything: a missing dataset stops here
    init_distributed()                               # torchrun: one process per device
    ranks = Ranks(*world())
    if ranks.rank != 0:
        log = _silent
    for note in notes:
        log(f"note: {note}")
    plan = make_plan(cfg, protocols, resolver, ranks=ranks, log=log, out=out, settings=settings)
    outcomes: list[SeedOutcome] = []
    try:
        for protocol in plan.protocols:
            variant = plan_variant(plan, protocol, resolver, ranks=ranks, log=log)
            for seed in variant.protocol.seeds:
                seed_started = time.time()
                ckpt_dir = train_seed(plan, variant, seed, rank=ranks.rank, log=log)
                if ranks.rank != 0:                  # evaluation, results and tables: rank 0
                    ranks.barrier()
                    continue
                job = SeedEval(protocol=variant.protocol, splits=variant.splits,
                               checkpoint=select_checkpoint(variant.protocol, ckpt_dir, log), config=cfg,
                               eval=settings.eval, seed=seed, backbone_block=plan.backbone_block,
                               pretrained=plan.probe["checkpoint"], config_digest=plan.digest,
                               results_dir=plan.results_dir, started=seed_started,
                               train_wall_time_s=train_wall_time(seed_dir(variant, seed)))
                outcome = evaluate_checkpoint(job, log)
                report_outcome(outcome, log)
                outcomes.append(outcome)
                ranks.barrier()
        if ranks.rank == 0 and settings.leaderboard.rebuild:
            rebuild_leaderboard(settings.leaderboard, log, plan.root)
    finally:
        if ranks.world_size > 1:
            finish_distributed()
    log(f"done in {time.time() - started:.1f} s; run folder {plan.run_dir}")
    return outcomes


def _silent(_: str) -> None:
    pass
