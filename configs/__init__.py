"""Composable configs (installed as ``fsfm_bench_configs``): recipes/, backbones/, protocols/."""
