"""Config composition: recipe + protocol + backbone + ``key=value`` overrides -> one mmengine Config.

The resolved config is what a run executes and what its result cites, so it is hashed over a
canonical JSON form (sorted keys, no whitespace) and saved beside every run.

Layout of a resolved config::

    <recipe keys at top level>       # configs/recipes/<recipe>.yaml (may `_base_` other recipes)
    protocol: {...}                  # configs/protocols/<name>.yaml or the registered protocol
    backbone: {type: <name>, ...}    # configs/backbones/<name>.yaml or {type: <name>}

An override must name a key that exists (else a did-you-mean error), unless one of its ancestors is
listed in the config's ``open_keys`` (mappings meant to be filled, such as ``data.roots``).
"""
from __future__ import annotations

import copy
import math
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError, did_you_mean
from .io import atomic_write_text, sha256_json

CONFIG_PACKAGE = "fsfm_bench_configs"

SECTION_KINDS = {"protocols": "protocol", "backbones": "backbone", "recipes": "recipe"}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


# --- key=value parsing --------------------------------------------------------------------------
def parse_scalar(text: str) -> Any:
    """int, float, bool (true/false), null (null/none/~), else the string itself.

    Written by hand rather than with yaml.safe_load because YAML 1.1 reads ``1e-4`` as a string and
    ``on``/``no`` as booleans, both surprising on a command line.
    """
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none", "~"):
        return None
    if _INT.match(text.strip()):
        return int(text)
    if _FLOAT.match(text.strip()):
        return float(text)
    return text


def parse_value(text: str) -> Any:
    """A scalar, a comma list (``0,1,2``) or a YAML flow list/mapping (``[a, b]``, ``{k: v}``)."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            value = yaml.safe_load(stripped)
        except yaml.YAMLError as exc:
            raise UsageError(f"cannot parse value {text!r}: {exc.problem or exc}") from exc
        return _normalise(value)
    if "," in stripped:
        return [parse_scalar(part.strip()) for part in stripped.split(",") if part.strip() != ""]
    return parse_scalar(text)


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return parse_scalar(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    return value


def parse_overrides(words: list[str]) -> dict[str, Any]:
    """``["a.b=1", "seeds=0,1"]`` -> ``{"a.b": 1, "seeds": [0, 1]}``; malformed words are UsageErrors."""
    out: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise UsageError(f"expected key=value, got {word!r} (e.g. protocol=cdfd backbone=fsfm lr=1e-4)")
        if not _KEY.match(key):
            raise UsageError(f"malformed key {key!r} in {word!r}: use dotted names like optim.lr=1e-4")
        if key in out:
            raise UsageError(f"key {key!r} given twice")
        out[key] = parse_value(value)
    return out


# --- finding config files -------------------------------------------------------------------------
def _config_root() -> Path:
    return Path(str(resources.files(CONFIG_PACKAGE)))


def available(kind: str) -> list[str]:
    folder = _config_root() / kind
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def find_config(kind: str, name: str) -> Path | None:
    """configs/<kind>/<name>.yaml of the installed package, or None."""
    path = _config_root() / kind / f"{name}.yaml"
    return path if path.is_file() else None


def _load_yaml(path: Path) -> dict[str, Any]:
    from mmengine.config import Config

    return Config.fromfile(str(path)).to_dict()


def section(kind: str, name: str) -> dict[str, Any]:
    """The config section for one protocol, backbone or recipe name.

    A config file wins; otherwise a registered plugin entry provides it (``default_config``
    attribute or method), and a registered backbone without one becomes ``{type: name}``.
    """
    path = find_config(kind, name)
    if path is not None:
        data = _load_yaml(path)
    else:
        data = _from_plugin(kind, name)
    if data is None:
        from . import plugins

        names = set(available(kind))
        if kind in ("protocols", "backbones"):
            names |= set(plugins.names(kind))
        raise UsageError(f"unknown {SECTION_KINDS[kind]} {name!r}." + did_you_mean(name, names))
    return data


def _from_plugin(kind: str, name: str) -> dict[str, Any] | None:
    if kind not in ("protocols", "backbones"):
        return None
    from . import plugins

    if name not in plugins.names(kind):          # from the plugins' indexes: nothing imported
        return None
    obj = plugins.get(kind, name)                # imports only the plugin that registers it
    default = getattr(obj, "default_config", None)
    if callable(default):
        default = default()
    if isinstance(default, dict):
        return copy.deepcopy(default)
    return {"type": name} if kind == "backbones" else None


def recipe_section(recipe: str, protocol: str | None = None) -> dict[str, Any]:
    """A recipe by name; with a registered protocol, looked up beside its YAML file first (a protocol
    plugin ships its own recipe, fsfm_bench.protocols.files), then in the core's configs/recipes/."""
    definition = None
    if protocol and find_config("protocols", protocol) is None:
        from . import plugins

        if protocol in plugins.names("protocols"):
            definition = plugins.get("protocols", protocol)
    if not callable(getattr(definition, "recipe_file", None)):
        return section("recipes", recipe)
    return _load_yaml(definition.recipe_file(recipe))


# --- composition and overrides ----------------------------------------------------------------
def compose(protocol: str | None = None, backbone: str | None = None, recipe: str | None = None,
            overrides: dict[str, Any] | None = None, recipe_owner: str | None = None):
    """Compose the sections and apply overrides; returns an ``mmengine.config.Config``.

    ``recipe_owner`` names a protocol whose folder is searched for ``recipe`` first (as ``protocol``
    would) without composing that protocol in: the demo's pretraining recipe is found this way."""
    from mmengine.config import Config

    overrides = dict(overrides or {})
    data: dict[str, Any] = {}
    proto = section("protocols", protocol) if protocol else None
    if recipe is None and proto is not None:
        recipe = proto.get("recipe")
    if recipe:
        data.update(recipe_section(recipe, protocol or recipe_owner))
        data["recipe_name"] = recipe
    if proto is not None:
        data["protocol"] = _merge(data.get("protocol", {}), proto)
        data["protocol"].setdefault("name", protocol)
    if backbone:
        bb = section("backbones", backbone)
        data["backbone"] = _merge(data.get("backbone", {}), bb)
        data["backbone"].setdefault("type", backbone)
        from .backbone_spec import CONFIG_PLACEHOLDERS

        for key, value in CONFIG_PLACEHOLDERS.items():    # null = the spec/checkpoint decides
            data["backbone"].setdefault(key, value)
    apply_overrides(data, overrides)
    from .config_checks import check_values

    check_values(data)                      # a value that cannot work fails here, before any work
    return Config(data)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _flat_keys(data: Any, prefix: str = "") -> list[str]:
    keys = []
    if isinstance(data, dict):
        for key, value in data.items():
            full = f"{prefix}{key}"
            keys.append(full)
            keys += _flat_keys(value, full + ".")
    return keys


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Set each dotted key in place; unknown keys raise a did-you-mean UsageError."""
    open_keys = tuple(data.get("open_keys", []) or [])
    valid = _flat_keys(data)
    for key, value in overrides.items():
        parts = key.split(".")
        is_open = any(key == k or key.startswith(k + ".") for k in open_keys)
        if key not in valid and not is_open:
            raise UsageError(f"unknown config key {key!r}." + did_you_mean(key, valid)
                             + " See the resolved config with --print-config.")
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if child is None and is_open:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise UsageError(f"cannot set {key!r}: {part!r} is not a mapping in the config")
            node = child
        _check_type(key, node.get(parts[-1]), value)
        node[parts[-1]] = value


def bool_option(options: dict[str, Any], key: str, default: bool = False) -> bool:
    """A yes/no ``key=value`` option: only true/false, since ``bool("no")`` would read as True."""
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, got {value!r}")
    return value


def int_option(options: dict, key: str, default: int | None, minimum: int | None = None,
               allow_none: bool = False) -> int | None:
    """Pop ``key`` from parsed ``key=value`` options as an int: anything else is a UsageError naming it."""
    if key not in options:
        return default
    value = options.pop(key)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{key}={value}: expected an integer, e.g. {key}={default if default is not None else 1}"
                         + (f" (or {key}=null)" if allow_none else ""))
    if minimum is not None and value < minimum:
        raise UsageError(f"{key}={value}: expected an integer >= {minimum}")
    return value


def _check_type(key: str, default: Any, value: Any) -> None:
    """A yes/no or numeric setting keeps its type: ``real_only=no`` would otherwise read as True."""
    if isinstance(default, bool):
        bool_option({key: value}, key)
    if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str):
        raise UsageError(f"{key} must be a number (the default is {default!r}), got {value!r}")


# --- hashing, printing, saving -------------------------------------------------------------------
def _plain(cfg: Any) -> dict[str, Any]:
    return cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)


def _check_finite(obj: Any, where: str = "") -> None:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise UsageError(f"config value {where} is {obj}; use a finite number")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f"{where}.{k}" if where else str(k))
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_finite(v, f"{where}[{i}]")


def config_hash(cfg: Any) -> str:
    """sha256 of the canonical JSON form of the resolved config."""
    data = _plain(cfg)
    _check_finite(data)
    return sha256_json(data)


def dump_config(cfg: Any) -> str:
    return yaml.safe_dump(_plain(cfg), sort_keys=False, allow_unicode=True)


def print_config(cfg: Any) -> None:
    """What ``--print-config`` shows: the resolved YAML and its sha256."""
    print(dump_config(cfg), end="")
    print(f"# config sha256: {config_hash(cfg)}")


def save_config(cfg: Any, run_dir: str | os.PathLike) -> str:
    """Write ``config.yaml`` and ``config.sha256`` into ``run_dir`` atomically; return the hash."""
    digest = config_hash(cfg)
    run_dir = Path(run_dir)
    atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    atomic_write_text(run_dir / "config.sha256", digest + "\n")
    return digest
