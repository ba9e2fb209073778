"""A fast CLI: listing, plugins, config and --help import neither torch nor the plugin modules.

Plugins ship index files (fsfm_bench_index.json) that say what they register; these tests check
that the CLI answers from them, that every committed index says exactly what its plugin really
registers (so `ls` never lies), and that a plugin without an index, or with a stale one, still works.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from fsfm_bench.hookspecs import KIND_HOOKS
from fsfm_bench.plugin_index import FORMAT, INDEX_FILE, read_index
from fsfm_bench.schemas import load_schema

PROBE = """
import contextlib, io, json, sys
from fsfm_bench.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as exc:          # `COMMAND --help`: argparse prints and exits
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _probe(argv: list[str], env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _plugin_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(("fsfm_bench_plugins.", "fsfm_bench_example"))]


@pytest.mark.parametrize("argv", [["ls", "backbones"], ["ls", "masking"], ["plugins"], ["plugins", "--json"],
                                  ["--help"], ["ls", "--help"], ["run", "--help"]])
def test_listing_and_help_import_neither_torch_nor_plugins(argv):
    result = _probe(argv)
    assert result["code"] == 0
    assert "torch" not in result["modules"] and "mmengine" not in result["modules"]
    assert _plugin_modules(result["modules"]) == []


def test_ls_lists_builtins_and_the_example_plugin_from_their_indexes():
    out = _probe(["ls", "backbones"])["out"].splitlines()
    names = [line.split()[0] for line in out]
    assert names == sorted(names) and {"fsfm", "mae", "xception", "example_vit"} <= set(names)
    example = next(line for line in out if line.startswith("example_vit"))
    assert example.endswith("Example ViT (64-d, 2 blocks) for plugin authors to copy.  [fsfm-bench-example]")
    plugins = json.loads(_probe(["plugins", "--json"])["out"])
    assert {"name": "example", "distribution": "fsfm-bench-example", "version": "0.1.0", "builtin": False,
            "registers": {"backbones": ["example_vit"], "masking": ["example_center"],
                          "metrics": ["fpr_at_tpr95"], "protocols": ["example_demo", "example_demo@1"],
                          "tasks": ["forgery_screening"]}} in plugins


def test_config_imports_only_the_protocol_plugin_and_no_torch():
    result = _probe(["config", "protocol=demo", "backbone=fsfm"])
    assert result["code"] == 0 and "# config sha256: " in result["out"]
    assert "torch" not in result["modules"]
    # the protocol plugin and its own submodules (its tasks), nothing else
    assert {".".join(m.split(".")[:2]) for m in _plugin_modules(result["modules"])} == {"fsfm_bench_plugins.protocols"}


def test_every_index_says_what_its_plugin_registers():
    """The committed indexes (built-ins and the example plugin) match a real load, name for name and
    description for description, and follow the schema; `fsfm-bench plugins --write-index` rewrites them."""
    from fsfm_bench.plugins import entries, load_plugins

    infos = load_plugins(reload=True)
    schema = load_schema("plugin_index")
    indexed = 0
    for info in infos:
        index = read_index(info.module, info.version, list(KIND_HOOKS))
        if info.builtin or info.distribution == "fsfm-bench-example":
            assert index is not None, f"plugin {info.name} has no usable {INDEX_FILE}: run `fsfm-bench plugins --write-index`"
        if index is None:
            continue
        jsonschema.validate(index, schema)
        real = {kind: {e.name: e.description for e in entries(kind) if e.plugin is info}
                for kind in info.registers}
        assert index["registers"] == {k: v for k, v in real.items() if v}, \
            f"{info.module}/{INDEX_FILE} is stale: run `fsfm-bench plugins --write-index`"
        indexed += 1
    assert indexed >= 11


def _install(site: Path, dist: str, package: str, source: str, index: dict | None) -> None:
    """A throw-away installed distribution whose entry point is a package (as pip would leave it)."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(textwrap.dedent(source))
    if index is not None:
        (site / package / INDEX_FILE).write_text(json.dumps(index))
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[fsfm_bench]\n{dist} = {package}\n")


PACKAGE = """
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

def vit(checkpoint=None, **kw):
    '''A packaged test backbone.'''
    return "vit"

@hookimpl
def register_backbones(register):
    register("{name}", vit)
"""


def test_a_plugin_without_an_index_is_imported_and_listed(tmp_path):
    _install(tmp_path, "noindex-vit", "noindex_vit_pkg", PACKAGE.format(name="noindex_vit"), None)
    result = _probe(["ls", "backbones"], env={"PYTHONPATH": str(tmp_path)})
    assert any(line.startswith("noindex_vit ") and line.endswith("[noindex-vit]") for line in result["out"].splitlines())
    assert "noindex_vit_pkg" in result["modules"]               # the fallback: a real load


def test_an_indexed_plugin_loads_only_when_asked_and_a_stale_index_falls_back(tmp_path):
    index = {"format": FORMAT, "module": "stale_vit_pkg", "version": "1.0", "api": ">=1,<2",
             "registers": {"backbones": {"stale_vit": "A packaged test backbone."}}}
    _install(tmp_path, "stale-vit", "stale_vit_pkg", PACKAGE.format(name="renamed_vit"), index)
    env = {"PYTHONPATH": str(tmp_path)}
    listed = _probe(["ls", "backbones"], env=env)
    assert "stale_vit_pkg" not in listed["modules"]             # listed from its index, not imported
    assert any(line.startswith("stale_vit ") for line in listed["out"].splitlines())
    script = ("import warnings; warnings.simplefilter('always')\n"
              "from fsfm_bench.plugins import get\n"
              "print(get('backbones', 'renamed_vit')())\n"
              "print(type(get('backbones', 'fsfm')).__name__, get('backbones', 'renamed_vit').factory.__name__)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    # the real name works after the full load; a plain factory is registered wrapped in a spec
    assert proc.stdout.split() == ["vit", "BackboneSpec", "vit"]
    assert "registers other names than its index" in proc.stderr and "--write-index" in proc.stderr


def test_the_light_kind_table_matches_the_registries():
    from fsfm_bench.hookspecs import KIND_HOOKS
    from fsfm_bench.registry import PLUGIN_REGISTRIES

    assert KIND_HOOKS == {kind: hook for kind, (_registry, hook) in PLUGIN_REGISTRIES.items()}
    assert set(load_schema("plugin_index")["properties"]["registers"]["propertyNames"]["enum"]) == set(KIND_HOOKS)
