"""Checkpoint handling: where a file comes from, how it is opened safely, and which card describes it.

Modules, one job each:

- :mod:`.sources`  -- a local path, ``hf://<owner>/<repo>/<file>`` or an https URL -> a local file;
- :mod:`.safe_load` -- open a file without running code (``weights_only=True`` or safetensors);
- :mod:`.cards`    -- the catalogue of released checkpoints (registry/checkpoints/*.yaml) and the
  card/mean-std files that sit beside a checkpoint;
- :mod:`.keys`     -- strict key checking when a converted state dict goes into a model.

Backbone plugins combine these with their own key converter (see fsfm_bench_plugins.backbones).
"""
from __future__ import annotations

from .cards import (
    Card,
    card_beside,
    find_card,
    get_card,
    list_cards,
    mean_std_beside,
    read_mean_std_file,
)
from .keys import LoadReport, load_checked
from .safe_load import load_file, unwrap
from .sources import resolve

__all__ = [
    "Card", "LoadReport", "card_beside", "find_card", "get_card", "list_cards", "load_checked",
    "load_file", "mean_std_beside", "read_mean_std_file", "resolve", "unwrap",
]
