"""Built-in backbones plugin: FSFM, MAE, DINO, FaRL, CLIP, MCF and the supervised/scratch/CNN baselines.

Every name is a factory ``f(checkpoint=None, **kwargs) -> backbone`` (see .factories); each owns the
converter from its official checkpoint layout (.layouts). Heavy imports happen inside the factories.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_backbones(register):
    from .factories import FACTORIES

    for name, factory in FACTORIES.items():
        register(name, factory)
