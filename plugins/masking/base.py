"""Moved to :mod:`fsfm_bench.bases.masking` (the core owns the contract's base classes); this
module re-exports it so existing imports keep working."""
from fsfm_bench.bases.masking import NUM_LABELS, MaskingResult, MaskingStrategy, check_parsing_maps, empty_focus  # noqa: F401
