"""fsfm-bench's built-in plugins (installed as ``fsfm_bench_plugins``).

Each sub-package is one plugin, loaded through the ``fsfm_bench`` entry-point group exactly as a
third party's plugin is; nothing in the core imports these modules directly.
"""
