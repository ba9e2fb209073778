"""Where a protocol's recipe (``recipe:``) and paper-reported numbers (``reported:``) live.

A protocol plugin ships both beside its YAML file, so a third party needs no change to the core:
each value is looked up relative to the protocol file's folder first, then in the core's folders
(``configs/recipes/`` for a recipe name, ``registry/reported/`` for a reported file; a value that
starts with ``configs/`` or ``registry/`` names a core file by its path in this repository). A
value that resolves nowhere is one error naming the protocol and every path tried.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePosixPath

from ..errors import UsageError, did_you_mean

#: the core's installed packages for the repository folders configs/ and registry/ (setup.py)
CORE_PACKAGES = {"configs": "fsfm_bench_configs", "registry": "fsfm_bench_registry"}
#: per kind of file: the core folder a bare name resolves in
CORE_FOLDERS = {"recipe": "configs/recipes", "reported": "registry/reported"}


def _core_root(top: str) -> Path | None:
    try:
        return Path(str(resources.files(CORE_PACKAGES[top])))
    except ModuleNotFoundError:
        return None


def _with_suffix(value: str) -> PurePosixPath:
    path = PurePosixPath(value)
    return path if path.suffix in (".yaml", ".yml") else path.with_name(path.name + ".yaml")


def _core_candidate(kind: str, rel: PurePosixPath) -> tuple[PurePosixPath, Path | None]:
    """(the core path as this repository writes it, where it is installed)."""
    shown = rel if rel.parts[0] in CORE_PACKAGES else PurePosixPath(CORE_FOLDERS[kind]) / rel
    root = _core_root(shown.parts[0])
    return shown, None if root is None else root.joinpath(*shown.parts[1:])


def package_relative(path: Path) -> str:
    """``path`` from its top-level package's parent (e.g. ``my_plugin/protocols/reported/x.yaml``):
    how tables name a plugin's file without naming the machine it is installed on."""
    package = next((p for p in path.parents if (p / "__init__.py").is_file()), None)
    if package is None:
        return path.name
    while (package.parent / "__init__.py").is_file():
        package = package.parent
    return path.relative_to(package.parent).as_posix()


def find_protocol_file(kind: str, value: str, home: str | Path | None, where: str) -> tuple[Path, str]:
    """(the file, how to show it) for a protocol's ``recipe``/``reported`` value.

    ``home`` is the protocol file's folder (None for a protocol without one: core only); ``where``
    names the protocol in the error (``protocol example_demo@1``).
    """
    rel = _with_suffix(str(value))
    if rel.is_absolute() or ".." in rel.parts:
        raise UsageError(f"{where}: {kind} {value!r} must be a path relative to the protocol file's folder or a "
                         f"core name, not an absolute path or one that leaves the folder")
    tried = []
    if home is not None:
        beside = Path(home).joinpath(*rel.parts)
        if beside.is_file():
            return beside, package_relative(beside)
        tried.append(str(beside))
    shown, installed = _core_candidate(kind, rel)
    if installed is not None and installed.is_file():
        return installed, shown.as_posix()
    tried.append(shown.as_posix())
    core = installed.parent if installed is not None else None
    names = sorted(p.stem for p in core.glob("*.yaml")) if core is not None and core.is_dir() else []
    raise UsageError(f"{where}: its {kind} {value!r} is missing: looked for {' and '.join(tried)}; ship the file "
                     f"beside the protocol YAML or name one of the core's ({CORE_FOLDERS[kind]}/)."
                     + did_you_mean(rel.stem, names))
