"""Built-in backbones plugin: FSFM, MAE, DINO, FaRL, CLIP, MCF and the supervised/scratch/CNN baselines.

Every name is one :class:`~fsfm_bench.backbone_spec.BackboneSpec` (.specs): its facts, and a lazy
factory (.factories) that owns the converter from its official checkpoint layout (.layouts). Heavy
imports happen inside the factories.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_backbones(register):
    from .specs import SPECS

    for spec in SPECS:
        register(spec.name, spec, description=spec.description)
