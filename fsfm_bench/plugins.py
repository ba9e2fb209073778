"""Plugin discovery: built-ins and third parties through one path, the ``fsfm_bench`` entry points.

Rules (each one tested):
- every plugin module declares ``fsfm_bench_api``, a PEP 440 specifier of the plugin-API versions it
  supports; an incompatible one is skipped with a warning naming the range this host supports;
- a plugin that fails to import or to register is reported (plugin, distribution, error) and
  skipped: what it registered before failing is rolled back, the rest load and work;
- two registrations of one name in one registry raise :class:`PluginConflictError` naming both
  distributions (a run must never silently pick one of two "fsfm" backbones);
- ``FSFM_BENCH_PLUGINS=a,b`` loads only those third-party plugins (by entry-point or distribution
  name); ``FSFM_BENCH_PLUGINS=`` (empty) loads the built-ins only. Built-ins always load. A name
  that matches no installed plugin is a UsageError suggesting the nearest installed ones;
- lazily: a plugin that ships an index (:mod:`fsfm_bench.plugin_index`) is listed from it and
  imported only when one of its objects is asked for (:func:`get_entry`), so ``ls``, ``plugins``
  and ``config`` need neither torch nor the plugin modules; :func:`load_plugins` imports them all.
"""
from __future__ import annotations

import importlib.metadata as md
import inspect
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs
from .backbone_spec import as_spec
from .contracts import check_registration
from .errors import FsfmBenchError, UsageError, did_you_mean
from .hookspecs import KIND_HOOKS
from .plugin_index import index_path, read_index

PLUGIN_API_VERSION = "1.0"
ENTRY_POINT_GROUP = "fsfm_bench"
BUILTIN_DISTRIBUTION = "fsfm-bench"
ALLOWLIST_ENV = "FSFM_BENCH_PLUGINS"


class PluginConflictError(FsfmBenchError):
    """One name registered twice in one registry."""


@dataclass
class PluginInfo:
    """What ``fsfm-bench plugins`` reports for one plugin."""

    name: str
    distribution: str
    version: str
    module: str
    builtin: bool
    registers: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None          # why it was skipped (import, API range or registration)

    def as_json(self) -> dict[str, Any]:
        out = {"name": self.name, "distribution": self.distribution, "version": self.version,
               "registers": self.registers, "builtin": self.builtin}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Entry:
    """One registered name: the object plus who registered it (for provenance in results)."""

    kind: str
    name: str
    obj: Any
    description: str
    plugin: PluginInfo


_lock = threading.RLock()
_loaded: list[PluginInfo] | None = None
_entries: dict[tuple[str, str], Entry] = {}
_imported: dict[tuple[str, str, str], PluginInfo] = {}     # plugins imported so far, by _ep_key
_pm: pluggy.PluginManager | None = None


def _describe(obj: Any, description: str | None) -> str:
    if description:
        return description.strip().splitlines()[0]
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _allowlist() -> set[str] | None:
    """The names in ``FSFM_BENCH_PLUGINS`` (None when unset: every plugin loads)."""
    if ALLOWLIST_ENV not in os.environ:
        return None
    return {w.strip() for w in os.environ[ALLOWLIST_ENV].split(",") if w.strip()}


def _allowed(ep: md.EntryPoint, dist_name: str, builtin: bool) -> bool:
    wanted = _allowlist()
    if builtin or wanted is None:
        return True
    return ep.name in wanted or dist_name in wanted


def _check_allowlist(found: list[tuple[md.EntryPoint, md.Distribution | None]]) -> None:
    """A name in ``FSFM_BENCH_PLUGINS`` that matches no installed plugin is a typo, not a filter:
    ignoring it would silently run without the plugin the user asked for."""
    wanted = _allowlist()
    if not wanted:
        return
    known: set[str] = set()
    third_party: dict[str, str] = {}          # entry-point name -> "distribution version"
    for ep, dist in found:
        dist_name = dist.metadata["Name"] if dist else "?"
        known.update((ep.name, dist_name))
        if dist_name != BUILTIN_DISTRIBUTION:
            third_party[ep.name] = f"{dist_name} {dist.version if dist else '?'}"
    unknown = sorted(wanted - known)
    if not unknown:
        return
    candidates = set(third_party) | {d.split(" ")[0] for d in third_party.values()}
    hints = "".join(did_you_mean(name, candidates) for name in unknown if candidates)
    installed = (", ".join(f"{name} ({dist})" for name, dist in sorted(third_party.items()))
                 if third_party else "none")
    raise UsageError(
        f"{ALLOWLIST_ENV}={os.environ[ALLOWLIST_ENV]!r} names {', '.join(map(repr, unknown))}, which matches no "
        f"installed plugin entry point or distribution.{hints} Installed third-party plugins: {installed}. "
        f"Fix the name, or set {ALLOWLIST_ENV}= (empty) to load the built-ins only")


def _api_error(module: Any) -> str | None:
    return _api_range_error(getattr(module, "fsfm_bench_api", None))


def _api_range_error(spec_text: Any) -> str | None:
    if spec_text is None:
        return (f"declares no `fsfm_bench_api`; this fsfm-bench supports plugin API "
                f"{PLUGIN_API_VERSION} (declare e.g. fsfm_bench_api = \">=1,<2\")")
    try:
        spec = SpecifierSet(str(spec_text))
    except InvalidSpecifier:
        return f"has an invalid `fsfm_bench_api` {spec_text!r} (use a PEP 440 range such as \">=1,<2\")"
    if Version(PLUGIN_API_VERSION) not in spec:
        return (f"supports plugin API {spec_text}, but this fsfm-bench supports plugin API "
                f"{PLUGIN_API_VERSION} (range ==1.*)")
    return None


def _register_one(pm: pluggy.PluginManager, module: Any, info: PluginInfo) -> list[Entry]:
    """Run every hook this plugin implements with a staging ``register``; return its entries."""
    staged: list[Entry] = []
    for kind, hook_name in KIND_HOOKS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if impl.plugin is not module:
                continue

            def register(name: str, obj: Any, description: str | None = None, _kind: str = kind) -> None:
                if not isinstance(name, str) or not name:
                    raise TypeError(f"register() needs a non-empty name, got {name!r}")
                check_registration(_kind, name, obj, info.name)
                described = _describe(obj, description or getattr(obj, "description", None))
                if _kind == "backbones":     # one spec per name; a plain factory is wrapped in one
                    obj = as_spec(name, obj, described)
                staged.append(Entry(_kind, name, obj, described, info))

            impl.function(register=register)
    return staged


def _commit(staged: list[Entry]) -> None:
    """Check conflicts for all of one plugin's entries, then add them to the registries."""
    seen: dict[tuple[str, str], Entry] = {}
    for entry in staged:
        key = (entry.kind, entry.name)
        other = _entries.get(key) or seen.get(key)
        if other is not None:
            raise PluginConflictError(
                f"{entry.kind[:-1] if entry.kind.endswith('s') else entry.kind} name {entry.name!r} is "
                f"registered twice: by plugin {other.plugin.name!r} (distribution "
                f"{other.plugin.distribution}) and by plugin {entry.plugin.name!r} (distribution "
                f"{entry.plugin.distribution}). Uninstall one, or restrict third-party plugins with "
                f"{ALLOWLIST_ENV}=...")
        seen[key] = entry
    from .registry import PLUGIN_REGISTRIES

    for key, entry in seen.items():
        registry = PLUGIN_REGISTRIES[entry.kind][0]
        registry.register_module(name=entry.name, module=entry.obj, force=True)
        _entries[key] = entry
        entry.plugin.registers.setdefault(entry.kind, []).append(entry.name)


def _entry_points() -> list[tuple[md.EntryPoint, md.Distribution | None]]:
    found = []
    for dist in md.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found.append((ep, dist))
    # built-ins first, then third parties in a stable order
    found.sort(key=lambda pair: (pair[1].metadata["Name"] != BUILTIN_DISTRIBUTION if pair[1] else True,
                                 pair[1].metadata["Name"] if pair[1] else "", pair[0].name))
    # one distribution may be visible twice on sys.path (editable + egg-info); keep the first
    unique, seen = [], set()
    for ep, dist in found:
        key = (dist.metadata["Name"] if dist else "", ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            unique.append((ep, dist))
    return unique


def _ep_key(ep: md.EntryPoint, dist: md.Distribution | None) -> tuple[str, str, str]:
    return (dist.metadata["Name"] if dist else "?", ep.name, ep.value)


def _manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        _pm = pluggy.PluginManager(hookspecs.PROJECT)
        _pm.add_hookspecs(hookspecs)
    return _pm


def _unload_all() -> None:
    """Forget every plugin: mmengine's Registry has no public way to unregister, so our own names
    are dropped from its dict (a reload, e.g. with another allowlist, starts from nothing)."""
    global _pm
    from .registry import PLUGIN_REGISTRIES

    for kind, (registry, _hook) in PLUGIN_REGISTRIES.items():
        for key in [k for k in _entries if k[0] == kind]:
            registry._module_dict.pop(key[1], None)
    _entries.clear()
    _imported.clear()
    _pm = None


def _import_one(ep: md.EntryPoint, dist: md.Distribution | None) -> PluginInfo:
    """Import one plugin and register what it registers (a failure is recorded on its info)."""
    dist_name = dist.metadata["Name"] if dist else "?"
    info = PluginInfo(ep.name, dist_name, dist.version if dist else "?", ep.value, dist_name == BUILTIN_DISTRIBUTION)
    _imported[_ep_key(ep, dist)] = info
    pm = _manager()
    try:
        module = ep.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the host
        info.error = f"failed to import: {type(exc).__name__}: {exc}"
        _warn(info)
        return info
    info.error = _api_error(module)
    if info.error:
        _warn(info)
        return info
    try:
        pm.register(module, name=f"{dist_name}:{ep.name}")
        pm.check_pending()
        staged = _register_one(pm, module, info)
    except Exception as exc:  # noqa: BLE001
        if pm.is_registered(module):
            pm.unregister(module)
        info.error = f"failed to register: {type(exc).__name__}: {exc}"
        _warn(info)
        return info
    _commit(staged)   # a conflict is an error for the whole load, by design
    _check_index(ep, info)
    return info


def _check_index(ep: md.EntryPoint, info: PluginInfo) -> None:
    """An index that no longer says what the plugin registers would make `ls` lie: say so."""
    index = read_index(ep.value, info.version, KIND_HOOKS)
    if index is None:
        return
    declared = {kind: sorted(names) for kind, names in index["registers"].items()}
    real = {kind: sorted(names) for kind, names in info.registers.items() if names}
    if declared != real:
        warnings.warn(f"fsfm-bench: plugin {info.name!r} ({info.distribution}) registers other names than its "
                      f"index {index_path(ep.value)} says; rewrite it with `fsfm-bench plugins --write-index`",
                      RuntimeWarning, stacklevel=3)


def load_plugins(reload: bool = False) -> list[PluginInfo]:
    """Import every plugin once per process; return what was loaded (and what was skipped)."""
    global _loaded
    with _lock:
        if _loaded is not None and not reload:
            return _loaded
        found = _entry_points()
        _check_allowlist(found)          # before anything is unloaded: a typo changes nothing
        if reload:
            _unload_all()
        infos: list[PluginInfo] = []
        for ep, dist in found:
            dist_name = dist.metadata["Name"] if dist else "?"
            if not _allowed(ep, dist_name, dist_name == BUILTIN_DISTRIBUTION):
                continue
            infos.append(_imported.get(_ep_key(ep, dist)) or _import_one(ep, dist))
        _loaded = infos
        return infos


def _indexed() -> list[tuple[md.EntryPoint, md.Distribution | None, dict[str, Any]]] | None:
    """Every allowed plugin with its index, or None when one has no usable index (or two indexes
    declare one name: the real load then reports the conflict)."""
    found = _entry_points()
    _check_allowlist(found)
    out, seen = [], set()
    for ep, dist in found:
        dist_name = dist.metadata["Name"] if dist else "?"
        if not _allowed(ep, dist_name, dist_name == BUILTIN_DISTRIBUTION):
            continue
        index = read_index(ep.value, dist.version if dist else "?", KIND_HOOKS)
        if index is None:
            return None
        if _api_range_error(index["api"]) is None:
            for kind, names in index["registers"].items():
                for name in names:
                    if (kind, name) in seen:
                        return None
                    seen.add((kind, name))
        out.append((ep, dist, index))
    return out


def declared_plugins() -> list[PluginInfo]:
    """What ``fsfm-bench plugins`` shows: from the plugins' indexes when every one has one (nothing
    imported), else from a real load."""
    with _lock:
        indexed = None if _loaded is not None else _indexed()
        if indexed is None:
            return load_plugins()
        infos = []
        for ep, dist, index in indexed:
            real = _imported.get(_ep_key(ep, dist))
            if real is not None:
                infos.append(real)
                continue
            dist_name = dist.metadata["Name"] if dist else "?"
            info = PluginInfo(ep.name, dist_name, dist.version if dist else "?", ep.value,
                              dist_name == BUILTIN_DISTRIBUTION, error=_api_range_error(index["api"]))
            if not info.error:
                info.registers = {kind: sorted(names) for kind, names in index["registers"].items()}
            infos.append(info)
        return infos


def declared_entries(kind: str) -> list[Entry]:
    """Entries of one kind for listing, sorted by name: from the indexes when every plugin has one
    (``obj`` is then None: nothing was imported), else the real entries."""
    if kind not in KIND_HOOKS:
        raise UsageError(f"unknown registry kind {kind!r}." + did_you_mean(kind, KIND_HOOKS))
    with _lock:
        indexed = None if _loaded is not None else _indexed()
        if indexed is None:
            return entries(kind)
        by_info = {(info.distribution, info.name, info.module): info for info in declared_plugins()}
        out = []
        for ep, dist, index in indexed:
            info = by_info[_ep_key(ep, dist)]
            if info.error:
                continue
            for name, description in index["registers"].get(kind, {}).items():
                real = _entries.get((kind, name))
                out.append(real or Entry(kind, name, None, description, info))
        return sorted(out, key=lambda e: e.name)


def names(kind: str) -> list[str]:
    """The registered names of one kind (from the indexes when possible: nothing imported)."""
    return [e.name for e in declared_entries(kind)]


def _warn(info: PluginInfo) -> None:
    warnings.warn(f"fsfm-bench: skipped plugin {info.name!r} (distribution {info.distribution} "
                  f"{info.version}): {info.error}", RuntimeWarning, stacklevel=3)


def entries(kind: str) -> list[Entry]:
    """Registered entries of one kind (see ``hookspecs.KIND_HOOKS``), sorted by name; imports every plugin."""
    if kind not in KIND_HOOKS:
        raise UsageError(f"unknown registry kind {kind!r}." + did_you_mean(kind, KIND_HOOKS))
    load_plugins()
    return sorted((e for (k, _), e in _entries.items() if k == kind), key=lambda e: e.name)


def get_entry(kind: str, name: str) -> Entry:
    """The entry for ``name``, or a UsageError that suggests the nearest registered names.

    When every plugin has an index, only the plugin that declares ``name`` is imported."""
    with _lock:
        entry = _entries.get((kind, name))
        if entry is not None:
            return entry
        indexed = None if _loaded is not None else _indexed()
        if indexed is not None:
            owners = [(ep, dist) for ep, dist, index in indexed
                      if name in index["registers"].get(kind, {}) and _api_range_error(index["api"]) is None]
            for ep, dist in owners:
                if _ep_key(ep, dist) not in _imported:
                    _import_one(ep, dist)
            entry = _entries.get((kind, name))
            if entry is not None:
                return entry
        load_plugins()                   # no index, a stale one, or an unknown name: import everything
        entry = _entries.get((kind, name))
        if entry is None:
            raise _unknown(kind, name, [e.name for e in entries(kind)])
        return entry


def _unknown(kind: str, name: str, known: list[str]) -> UsageError:
    return UsageError(f"unknown {kind[:-1] if kind.endswith('s') else kind} {name!r}."
                      + did_you_mean(name, known) + " See `fsfm-bench ls " + kind + "`.")


def get(kind: str, name: str) -> Any:
    """The registered object for ``name`` (class, factory or data)."""
    return get_entry(kind, name).obj
