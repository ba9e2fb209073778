"""Plugin index files: what a plugin registers, readable without importing it.

A plugin package may ship ``fsfm_bench_index.json`` beside its ``__init__.py``: its names and
one-line descriptions per kind, the plugin-API range it declares and the distribution version the
file was written for (format: ``fsfm_bench/schemas/plugin_index.json``). ``fsfm-bench ls``,
``plugins`` and ``config`` then answer from these files instead of importing every plugin (and
torch with them); a plugin is imported only when one of its objects is needed. A plugin without a
usable index (none, another version, malformed) is simply imported, as before: third-party plugins
need not ship one. ``fsfm-bench plugins --write-index`` writes the files from a real load, and
loading a plugin warns when its index no longer matches what it registers.

The file is found from the entry point's module path alone: the top-level package's location (which
``importlib.util.find_spec`` gives without importing it), then the sub-package folders.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

INDEX_FILE = "fsfm_bench_index.json"
FORMAT = "fsfm-bench-plugin-index/1"


def package_dir(module: str) -> Path | None:
    """The folder of package ``module`` (``a.b.c``), found without importing it; None for a plain
    module or one that is not installed."""
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location).joinpath(*rest)
        if (folder / "__init__.py").is_file():
            return folder
    return None


def index_path(module: str) -> Path | None:
    folder = package_dir(module)
    return folder / INDEX_FILE if folder is not None else None


def read_index(module: str, version: str, kinds) -> dict[str, Any] | None:
    """The index of the plugin at entry-point value ``module`` when it is usable: present, well formed,
    for this module and for the installed ``version``; else None (the plugin is then imported)."""
    path = index_path(module)
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _well_formed(data, kinds) or data["module"] != module or data["version"] != version:
        return None
    return data


def _well_formed(data: Any, kinds) -> bool:
    """The schema's rules, checked by hand: this runs on every `ls`, jsonschema's import would cost more
    than the rest of the command (the schema itself is enforced on write and by the tests)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return False
    if not all(isinstance(data.get(k), str) for k in ("module", "version", "api")):
        return False
    registers = data.get("registers")
    if not isinstance(registers, dict):
        return False
    for kind, names in registers.items():
        if kind not in kinds or not isinstance(names, dict):
            return False
        if not all(isinstance(n, str) and n and isinstance(d, str) for n, d in names.items()):
            return False
    return True


def index_document(module: str, version: str, api: str, registers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The index of one loaded plugin (names sorted, so that the file is stable)."""
    return {"format": FORMAT, "module": module, "version": version, "api": api,
            "registers": {kind: dict(sorted(names.items())) for kind, names in sorted(registers.items()) if names}}


def write_index(document: dict[str, Any]) -> Path:
    """Validate ``document`` against the schema and write it beside the plugin's ``__init__.py``."""
    import jsonschema

    from .io import atomic_write_text
    from .schemas import load_schema

    jsonschema.validate(document, load_schema("plugin_index"))
    path = index_path(document["module"])
    if path is None:
        raise ValueError(f"plugin module {document['module']!r} is not a package: an index needs a package folder")
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
