"""JSON Schemas for every file format fsfm-bench publishes, shipped inside the package.

``validator(name)`` returns a cached Draft 2020-12 validator for ``schemas/<name>.json``.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from ..errors import FsfmBenchError


@cache
def load_schema(name: str) -> dict[str, Any]:
    try:
        text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FsfmBenchError(f"no schema named {name!r} ships with fsfm-bench") from exc
    return json.loads(text)


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(instance: Any, name: str, what: str = "") -> None:
    """Raise FsfmBenchError with the first problem (path and message) if ``instance`` is invalid."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        loc = "/".join(map(str, err.absolute_path)) or "(top level)"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise FsfmBenchError(f"{what or name} is invalid at {loc}: {err.message}{more}")
