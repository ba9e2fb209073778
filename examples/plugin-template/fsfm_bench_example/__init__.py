"""An example fsfm-bench plugin: registers the backbone `example_vit`, the masking `example_center`,
the metric `fpr_at_tpr95`, the task `forgery_screening` (which asks for that metric) and the protocol
`example_demo` of that task, which ships its own recipe and reported rows beside its YAML file."""
from pathlib import Path

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


@hookimpl
def register_metrics(register):
    # one MetricSpec per name: how results call the function, its direction and its table title
    from fsfm_bench.metrics import MetricSpec

    from .metrics import fpr_at_tpr95

    register("fpr_at_tpr95", MetricSpec("fpr_at_tpr95", fpr_at_tpr95, higher_is_better=False,
                                        title="FPR@TPR=95%"))


@hookimpl
def register_tasks(register):
    # a task: what a protocol naming it uses unless it says otherwise (adapter, metrics, positive class)
    from fsfm_bench.protocols import TaskSpec

    register("forgery_screening", TaskSpec(
        "forgery_screening", adapter="fsfm_head", metrics=("auc", "fpr_at_tpr95"), positive_class="fake",
        description="Forgery screening: catch 95 % of fakes with as few false alarms as possible"))


@hookimpl
def register_protocols(register):
    # protocol YAML files beside this module, validated against the core's protocol schema; each one's
    # recipe and reported file are found beside it (protocols/recipes/, protocols/reported/)
    from fsfm_bench.protocols import ProtocolDefinition

    for path in sorted((Path(__file__).resolve().parent / "protocols").glob("*.yaml")):
        definition = ProtocolDefinition.from_file(path)
        register(definition.ref, definition, description=definition.title)
        register(definition.id, definition, description=f"{definition.title} (= {definition.ref})")
