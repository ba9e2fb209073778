"""Catalog data validated by JSON Schema (installed as ``fsfm_bench_registry``):
checkpoints/, datasets/ and reported/ cards."""
