"""mmengine Runner assembly for pretraining: data, optimiser pieces, hooks (LR schedule, EMA), the
guarded training step, export. Importing :mod:`fsfm_bench.engine.runner` registers them all."""
