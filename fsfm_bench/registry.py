"""Every registry of fsfm-bench, on one screen: this file is the whole extension surface.

Plugins fill these through the hooks in :mod:`fsfm_bench.hookspecs` (never by importing and
decorating directly), so that every registered name has an owning distribution and version that
results can record. The mmengine children at the bottom are filled by the core itself so that
mmengine's Runner can build our models, hooks and optimiser wrappers from a config with
``default_scope='fsfm_bench'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import Registry

SCOPE = "fsfm_bench"

# --- extension kinds that plugins register (hook name in parentheses) -------------------------
BACKBONES = Registry("backbone", scope=SCOPE)                      # (register_backbones)
MASKING_STRATEGIES = Registry("masking strategy", scope=SCOPE)     # (register_masking_strategies)
SSL_ALGORITHMS = Registry("ssl algorithm", scope=SCOPE)            # (register_ssl_algorithms)
TASK_ADAPTERS = Registry("task adapter", scope=SCOPE)              # (register_task_adapters)
DATASETS = Registry("dataset", scope=SCOPE)                        # (register_datasets)
FACE_DETECTORS = Registry("face detector", scope=SCOPE)            # (register_face_detectors)
FACE_PARSERS = Registry("face parser", scope=SCOPE)                # (register_face_parsers)
FORGERIES = Registry("forgery", scope=SCOPE)                       # (register_forgeries)
PROTOCOLS = Registry("protocol", scope=SCOPE)                      # (register_protocols)
METRICS = Registry("metric", scope=SCOPE)                          # (register_metrics)
PERTURBATIONS = Registry("perturbation", scope=SCOPE)              # (register_perturbations)
TASKS = Registry("task", scope=SCOPE)                              # (register_tasks)

# --- mmengine children the core fills (Runner-buildable parts) ---------------------------------
MODELS = Registry("model", parent=MMENGINE_MODELS, scope=SCOPE)
HOOKS = Registry("hook", parent=MMENGINE_HOOKS, scope=SCOPE)
OPTIM_WRAPPERS = Registry("optim wrapper", parent=MMENGINE_OPTIM_WRAPPERS, scope=SCOPE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    "optimizer wrapper constructor", parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE)
PARAM_SCHEDULERS = Registry("parameter scheduler", parent=MMENGINE_PARAM_SCHEDULERS, scope=SCOPE)
LOOPS = Registry("loop", parent=MMENGINE_LOOPS, scope=SCOPE)
RUNNER_DATASETS = Registry("runner dataset", parent=MMENGINE_DATASETS, scope=SCOPE)
DATA_SAMPLERS = Registry("data sampler", parent=MMENGINE_DATA_SAMPLERS, scope=SCOPE)
RUNNER_METRICS = Registry("runner metric", parent=MMENGINE_METRICS, scope=SCOPE)
MODEL_WRAPPERS = Registry("model wrapper", parent=MMENGINE_MODEL_WRAPPERS, scope=SCOPE)

#: The plugin-facing registries by the short name used in `fsfm-bench ls KIND`, in
#: `fsfm-bench plugins --json` ("registers") and in the hook names.
PLUGIN_REGISTRIES: dict[str, tuple[Registry, str]] = {
    "backbones": (BACKBONES, "register_backbones"),
    "masking": (MASKING_STRATEGIES, "register_masking_strategies"),
    "ssl": (SSL_ALGORITHMS, "register_ssl_algorithms"),
    "adapters": (TASK_ADAPTERS, "register_task_adapters"),
    "datasets": (DATASETS, "register_datasets"),
    "detectors": (FACE_DETECTORS, "register_face_detectors"),
    "parsers": (FACE_PARSERS, "register_face_parsers"),
    "forgeries": (FORGERIES, "register_forgeries"),
    "protocols": (PROTOCOLS, "register_protocols"),
    "metrics": (METRICS, "register_metrics"),
    "perturbations": (PERTURBATIONS, "register_perturbations"),
    "tasks": (TASKS, "register_tasks"),
}
