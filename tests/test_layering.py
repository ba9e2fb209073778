"""The library never imports the CLI: only ``fsfm_bench/cli.py`` and ``fsfm_bench/commands/`` may
name ``fsfm_bench.commands``. Commands are argument shells over library functions, so the library
(protocols, pretraining, fine-tuning, results) must not reach back up into them."""
from __future__ import annotations

import ast
from pathlib import Path

import fsfm_bench

PACKAGE = Path(fsfm_bench.__file__).resolve().parent
FORBIDDEN = "fsfm_bench.commands"


def _imported_modules(path: Path, package_root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``path``, relative ones resolved."""
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(FORBIDDEN):       # importlib.import_module("fsfm_bench.commands...")
                found.append((node.lineno, node.value))
    return found


def cli_imports(package_root: Path) -> list[str]:
    """``file:line module`` for each import of fsfm_bench.commands outside the CLI layer."""
    bad = []
    for path in sorted(package_root.rglob("*.py")):
        rel = path.relative_to(package_root)
        if rel.parts[0] == "commands" or rel == Path("cli.py"):
            continue
        for line, module in _imported_modules(path, package_root):
            if module == FORBIDDEN or module.startswith(FORBIDDEN + "."):
                bad.append(f"fsfm_bench/{rel.as_posix()}:{line} {module}")
    return bad


def test_library_never_imports_the_commands():
    assert cli_imports(PACKAGE) == []


def test_the_scan_sees_relative_absolute_and_string_imports(tmp_path):
    """The scan itself: each spelling of an import of the CLI is caught, other imports are not."""
    root = tmp_path / "fsfm_bench"
    (root / "commands").mkdir(parents=True)
    (root / "protocols").mkdir()
    (root / "commands" / "pretrain.py").write_text("from ..protocols import run\n")
    (root / "cli.py").write_text("import importlib\nimportlib.import_module('fsfm_bench.commands.run')\n")
    (root / "protocols" / "run.py").write_text(
        "from ..commands.pretrain import compose_pretrain\n"
        "from .. import commands\n"
        "import fsfm_bench.commands.eval\n"
        "from ..pretrain.run import run_pretrain\n"
        "from . import commandsish\n")
    (root / "loader.py").write_text("import importlib\nimportlib.import_module('fsfm_bench.commands.ls')\n")
    assert cli_imports(root) == [
        "fsfm_bench/loader.py:2 fsfm_bench.commands.ls",
        "fsfm_bench/protocols/run.py:1 fsfm_bench.commands.pretrain",
        "fsfm_bench/protocols/run.py:1 fsfm_bench.commands.pretrain.compose_pretrain",
        "fsfm_bench/protocols/run.py:2 fsfm_bench.commands",
        "fsfm_bench/protocols/run.py:3 fsfm_bench.commands.eval",
    ]
