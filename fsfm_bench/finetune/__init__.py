"""Fine-tuning and evaluation on mmengine's Runner.

- :mod:`.model`: backbone + task adapter as one mmengine ``BaseModel`` (``FaceClassifier``);
- :mod:`.optim`: the layer-wise lr-decay optimiser constructor (``LayerDecayOptimWrapperConstructor``);
- :mod:`.schedule`: the official warm-up + cosine lr (per-group floor) and the fixed-global-batch plan;
- :mod:`.datasets`: frame datasets and the train/eval transforms (timm's implementations);
- :mod:`.selection`: the validation metric and the hook that keeps one checkpoint per selection policy;
- :mod:`.train`: the Runner config for one seed of one protocol;
- :mod:`.scoring`: scores every target frame once, in atomically committed chunks, cached by
  (checkpoint hash, manifest hash, preprocessing hash).

Importing this package registers the Runner-buildable parts in ``fsfm_bench.registry``.
"""
from __future__ import annotations

from . import datasets, model, optim, schedule, selection  # noqa: F401  (registration side effects)
from .model import FaceClassifier, build_classifier, load_finetuned

__all__ = ["FaceClassifier", "build_classifier", "load_finetuned"]
