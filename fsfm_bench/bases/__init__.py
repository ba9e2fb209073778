"""Base classes that implement the plugin contracts of :mod:`fsfm_bench.contracts` once.

They live in the core (not under ``plugins/``) so that a third-party plugin subclasses the same
class the built-ins do: ``backbone`` (timm ViT/CNN wrappers with layer ids for layer-wise lr decay),
``dataset`` (options, root checks, layout errors for dataset adapters), ``masking`` (settings, parsing-map
checks and exactly K masked patches per row for masking strategies). Each is imported on demand
(``backbone`` needs torch; ``ls``/``plugins`` must not).
"""
