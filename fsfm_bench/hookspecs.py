"""The pluggy hook specifications: one hook per extension kind.

Every hook receives a ``register`` callback (the llm style) and calls it once per thing it adds::

    from fsfm_bench.hookspecs import hookimpl

    fsfm_bench_api = ">=1,<2"          # the plugin-API versions this plugin supports

    @hookimpl
    def register_backbones(register):
        register("my_vit", MyViT)                      # description: first docstring line
        register("my_vit_l", MyViTL, description="ViT-L variant")

The host records the plugin, distribution and version behind every name (results cite them).
"""
import pluggy

PROJECT = "fsfm_bench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The extension kinds by the short name used in `fsfm-bench ls KIND`, and their hooks. The same
#: table as ``fsfm_bench.registry.PLUGIN_REGISTRIES`` without the registries, so that listing
#: needs neither mmengine nor torch (a test keeps the two equal).
KIND_HOOKS: dict[str, str] = {
    "backbones": "register_backbones",
    "masking": "register_masking_strategies",
    "ssl": "register_ssl_algorithms",
    "adapters": "register_task_adapters",
    "datasets": "register_datasets",
    "detectors": "register_face_detectors",
    "parsers": "register_face_parsers",
    "forgeries": "register_forgeries",
    "protocols": "register_protocols",
    "metrics": "register_metrics",
    "perturbations": "register_perturbations",
    "tasks": "register_tasks",
}


@hookspec
def register_backbones(register):
    """Register backbones: ``register(name, factory)``; the factory returns an ``nn.Module``."""


@hookspec
def register_masking_strategies(register):
    """Register masking strategies: parsing maps [B,H,W] -> (mask [B,N], focus [B,N])."""


@hookspec
def register_ssl_algorithms(register):
    """Register self-supervised pretraining algorithms (e.g. fsfm, mae)."""


@hookspec
def register_task_adapters(register):
    """Register task adapters: head + loss + probability of the positive (fake/attack) class."""


@hookspec
def register_datasets(register):
    """Register dataset adapters that turn an official layout into a manifest."""


@hookspec
def register_face_detectors(register):
    """Register face detectors."""


@hookspec
def register_face_parsers(register):
    """Register face parsers that produce 11-label LaPa-style maps."""


@hookspec
def register_forgeries(register):
    """Register synthetic manipulations that return an image and its exact mask."""


@hookspec
def register_protocols(register):
    """Register evaluation protocols (versioned data: ``id@version``)."""


@hookspec
def register_metrics(register):
    """Register metrics: one ``fsfm_bench.metrics.MetricSpec`` per name (function, direction, threshold, title)."""


@hookspec
def register_perturbations(register):
    """Register test-time perturbations (robustness families with five severity levels each)."""


@hookspec
def register_tasks(register):
    """Register tasks that protocols name (``task:``): one ``fsfm_bench.protocols.TaskSpec`` per name."""
