"""Every advertised extension kind extends something: a kind that nothing registers into is an
extension point that extends nothing (as the removed ``transforms`` kind was), and is refused here.

Read from the built-in plugins' committed index files, so no plugin module or torch is imported.
"""
from __future__ import annotations

import json
from pathlib import Path

from fsfm_bench.hookspecs import KIND_HOOKS

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def _builtin_names_by_kind() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for index in sorted(PLUGINS.glob("*/fsfm_bench_index.json")):
        for kind, names in json.loads(index.read_text(encoding="utf-8"))["registers"].items():
            found.setdefault(kind, set()).update(names)
    return found


def test_every_kind_has_a_builtin_entry():
    found = _builtin_names_by_kind()
    empty = sorted(kind for kind in KIND_HOOKS if not found.get(kind))
    assert empty == [], f"plugin kinds nothing built-in registers into: {empty}"
    assert set(found) <= set(KIND_HOOKS)


def test_the_removed_kind_is_gone():
    from fsfm_bench import registry

    assert "transforms" not in KIND_HOOKS
    assert not hasattr(registry, "TRANSFORMS")
