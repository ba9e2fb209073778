"""Built-in ssl plugin: the ``fsfm`` (3C) and ``mae`` pretraining algorithms.

Each registered object is a factory ``(model=..., loss=..., masking=..., seed=...) -> FSFMPretrainer``
(an mmengine BaseModel that the pretraining Runner trains).
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


def fsfm(**kwargs):
    """FSFM 3C: CRFR-P masked image modelling + ID branch (EMA target), CVPR 2025."""
    from fsfm_bench.pretrain.factory import build_fsfm

    return build_fsfm(**kwargs)


def mae(**kwargs):
    """MAE baseline: FSFM's framework without the ID branch (random masking by default)."""
    from fsfm_bench.pretrain.factory import build_mae

    return build_mae(**kwargs)


@hookimpl
def register_ssl_algorithms(register):
    register("fsfm", fsfm)
    register("mae", mae)
