"""Built-in task adapters: FSFM's fine-tuning head, the anti-spoofing head, a linear probe.

An adapter factory takes the backbone's ``embed_dim`` and ``num_prefix_tokens`` (plus its own
options) and returns an ``nn.Module`` with ``forward(tokens) -> logits [B, 2]``, ``loss(logits,
target)`` and ``prob_positive(logits)`` (P(fake/attack)); see ``heads.TaskAdapter``.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


def fsfm_head(**kwargs):
    """FSFM's head: mean of patch tokens, fresh LayerNorm, Linear(D, 2) with init std 2e-5."""
    from .heads import FSFMHead

    return FSFMHead(**kwargs)


def fas_head(**kwargs):
    """FSFM's anti-spoofing head (MCIO): 512-d embedder, normalised features and classifier."""
    from .heads import FASHead

    return FASHead(**kwargs)


def linear_probe(**kwargs):
    """Linear probe on a frozen backbone: mean of patch tokens, LayerNorm, Linear(D, 2)."""
    from .heads import LinearProbe

    return LinearProbe(**kwargs)


@hookimpl
def register_task_adapters(register):
    register("fsfm_head", fsfm_head)
    register("fas_head", fas_head)
    register("linear_probe", linear_probe)
