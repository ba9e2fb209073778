"""An example fsfm-bench plugin: registers the backbone `example_vit` and the masking `example_center`."""
from fsfm_bench.hookspecs import hookimpl

# The plugin-API versions this plugin supports (PEP 440). fsfm-bench skips the plugin, with a
# warning naming its own version, when this range does not include it.
fsfm_bench_api = ">=1,<2"


@hookimpl
def register_backbones(register):
    from .backbone import build_example_vit

    register("example_vit", build_example_vit)


@hookimpl
def register_masking_strategies(register):
    from .masking import build_center_masking

    register("example_center", build_center_masking)
