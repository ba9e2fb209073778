"""An example fsfm-bench plugin: registers the backbone `example_vit` and the masking `example_center`."""
from fsfm_bench.hookspecs import hookimpl

# The plugin-API versions this plugin supports (PEP 440). fsfm-bench skips the plugin, with a
# warning naming its own version, when this range does not include it.
fsfm_bench_api = ">=1,<2"


# Register light factories and import torch/timm inside them: a plugin without an up-to-date
# fsfm_bench_index.json is imported by `fsfm-bench plugins` and `ls`, which should not pay for
# importing models nobody asked for (see README.md, "Make your own", step 5).
def example_vit(checkpoint=None, **kwargs):
    """Example ViT (64-d, 2 blocks) for plugin authors to copy."""
    from .backbone import build_example_vit

    return build_example_vit(checkpoint=checkpoint, **kwargs)


def example_center(mask_ratio=0.75, patch_size=16, **kwargs):
    """Centre-first masking: the K = int(N * ratio) patches closest to the centre are masked."""
    from .masking import build_center_masking

    return build_center_masking(mask_ratio=mask_ratio, patch_size=patch_size, **kwargs)


@hookimpl
def register_backbones(register):
    register("example_vit", example_vit)


@hookimpl
def register_masking_strategies(register):
    register("example_center", example_center)
