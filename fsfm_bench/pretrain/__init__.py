"""Pretraining: FSFM's 3C model and MAE (:mod:`.model`, built by :mod:`.factory`), their data
(:mod:`.data`), optimiser pieces (:mod:`.optim`), hooks (:mod:`.hooks`), the guarded training step
(:mod:`.step`), mmengine Runner assembly (:mod:`.runner`), the official-layout converter
(:mod:`.convert`), the encoder export (:mod:`.export`) and the orchestration of one run
(:mod:`.run`). Importing :mod:`fsfm_bench.pretrain.runner` registers the Runner-buildable parts.

Nothing is imported here, so ``import fsfm_bench.pretrain.source`` does not pay for torch."""
