"""Plugin discovery: entry points, isolation of broken plugins, conflicts, API ranges, allowlist."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fsfm_bench.plugins import PluginConflictError, entries, get

GOOD = """
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

def tiny_backbone(checkpoint=None, **kw):
    '''A tiny test backbone.'''
    return ("tiny", kw)

@hookimpl
def register_backbones(register):
    register("{name}", tiny_backbone)
"""


def by_name(infos, name):
    return next(info for info in infos if info.name == name)


def test_builtins_load_through_entry_points():
    from fsfm_bench.plugins import load_plugins

    infos = load_plugins(reload=True)
    builtin = {i.name for i in infos if i.builtin}
    assert {"backbones", "masking", "datasets", "protocols", "metrics"} <= builtin
    assert all(i.distribution == "fsfm-bench" for i in infos if i.builtin)


def test_third_party_backbone_is_usable_by_name(plugin_sandbox):
    plugin_sandbox.add("acme-vit", GOOD.format(name="acme_vit"))
    infos = plugin_sandbox.load()
    info = by_name(infos, "acme-vit")
    assert info.error is None and info.registers == {"backbones": ["acme_vit"]}
    import fsfm_bench

    assert get("backbones", "acme_vit")(depth=3) == ("tiny", {"depth": 3})
    # building checks the result against the backbone contract: this stand-in is no backbone
    from fsfm_bench.contracts import ContractError

    with pytest.raises(ContractError, match=r"^backbone 'acme_vit' \(plugin 'acme-vit'\) breaks the backbone contract"):
        fsfm_bench.build_backbone("acme_vit", depth=3)
    entry = next(e for e in entries("backbones") if e.name == "acme_vit")
    assert entry.description == "A tiny test backbone." and entry.plugin.distribution == "acme-vit"


def test_plugin_that_raises_on_import_is_reported_and_skipped(plugin_sandbox):
    plugin_sandbox.add("broken-plugin", "raise ImportError('needs libfoo')\n")
    plugin_sandbox.add("fine-plugin", GOOD.format(name="fine_vit"))
    with pytest.warns(RuntimeWarning, match="broken-plugin.*needs libfoo"):
        infos = plugin_sandbox.load()
    broken = by_name(infos, "broken-plugin")
    assert broken.error.startswith("failed to import: ImportError: needs libfoo")
    assert get("backbones", "fine_vit") is not None      # the rest still load and work


def test_plugin_that_fails_while_registering_is_rolled_back(plugin_sandbox):
    source = GOOD.format(name="half_vit") + """
@hookimpl
def register_metrics(register):
    raise RuntimeError("metric table missing")
"""
    plugin_sandbox.add("half-plugin", source)
    with pytest.warns(RuntimeWarning, match="metric table missing"):
        plugin_sandbox.load()
    assert "half_vit" not in {e.name for e in entries("backbones")}


def test_duplicate_name_is_an_error_naming_both_distributions(plugin_sandbox):
    plugin_sandbox.add("first-dist", GOOD.format(name="same_name"))
    plugin_sandbox.add("second-dist", GOOD.format(name="same_name"))
    with pytest.raises(PluginConflictError) as err:
        plugin_sandbox.load()
    assert "first-dist" in str(err.value) and "second-dist" in str(err.value)
    assert "'same_name'" in str(err.value)


def test_incompatible_api_range_is_skipped_with_supported_range(plugin_sandbox):
    plugin_sandbox.add("future-plugin", GOOD.format(name="future_vit").replace(">=1,<2", ">=2,<3"))
    with pytest.warns(RuntimeWarning, match=r"supports plugin API >=2,<3, but this fsfm-bench supports plugin API 1\.0"):
        infos = plugin_sandbox.load()
    assert by_name(infos, "future-plugin").registers == {}
    assert "future_vit" not in {e.name for e in entries("backbones")}


def test_allowlist_selects_third_party_plugins(plugin_sandbox, monkeypatch):
    plugin_sandbox.add("alpha", GOOD.format(name="alpha_vit"))
    plugin_sandbox.add("beta", GOOD.format(name="beta_vit"))
    monkeypatch.setenv("FSFM_BENCH_PLUGINS", "alpha")
    names = {i.name for i in plugin_sandbox.load()}
    assert "alpha" in names and "beta" not in names and "backbones" in names
    monkeypatch.setenv("FSFM_BENCH_PLUGINS", "")
    infos = plugin_sandbox.load()
    assert all(i.builtin for i in infos) and len(infos) >= 10


def test_unknown_name_suggests_nearest(plugin_sandbox):
    from fsfm_bench.errors import UsageError

    plugin_sandbox.add("acme", GOOD.format(name="acme_vit"))
    plugin_sandbox.load()
    with pytest.raises(UsageError, match="Did you mean: acme_vit"):
        get("backbones", "acme_vitt")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fsfm_bench", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_example_template_distribution_is_listed_and_builds():
    """The real pip-installed examples/plugin-template (CI installs it)."""
    pytest.importorskip("fsfm_bench_example", reason="examples/plugin-template is not installed")
    out = _cli("plugins", "--json")
    assert out.returncode == 0, out.stderr
    plugins = json.loads(out.stdout)
    example = next(p for p in plugins if p["name"] == "example")
    assert example["distribution"] == "fsfm-bench-example" and example["version"] == "0.1.0"
    assert example["registers"] == {"backbones": ["example_vit"], "masking": ["example_center"],
                                   "metrics": ["fpr_at_tpr95"], "protocols": ["example_demo", "example_demo@1"],
                          "tasks": ["forgery_screening"]}
    assert set(plugins[0]) >= {"name", "distribution", "version", "registers"}

    import torch

    import fsfm_bench

    model = fsfm_bench.build_backbone("example_vit")
    tokens = model.forward_features(torch.zeros(2, 3, 32, 32))
    assert tokens.shape == (2, 1 + 16, 64) and model(torch.zeros(2, 3, 32, 32)).shape == (2, 64)
    mask, focus = fsfm_bench.build_masking("example_center", mask_ratio=0.75, patch_size=8)(
        torch.zeros(3, 32, 32, dtype=torch.long))
    assert mask.shape == (3, 16) and mask.sum(1).tolist() == [12, 12, 12] and not focus.any()


def test_cli_errors_are_one_line_with_exit_codes():
    bad = _cli("frobnicate")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "unknown command 'frobnicate'" in bad.stderr
    kind = _cli("ls", "backbonez")
    assert kind.returncode == 2 and "Did you mean: backbones" in kind.stderr
    debug = _cli("--debug", "ls", "backbonez")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_allowlist_name_matching_no_plugin_is_a_usage_error(plugin_sandbox, monkeypatch):
    from fsfm_bench.errors import UsageError

    plugin_sandbox.add("acme-vit", GOOD.format(name="acme_vit"), entry_name="acme")
    plugin_sandbox.add("zeta", GOOD.format(name="zeta_vit"))
    monkeypatch.setenv("FSFM_BENCH_PLUGINS", "acme")
    plugin_sandbox.load()
    assert "acme_vit" in {e.name for e in entries("backbones")}
    monkeypatch.setenv("FSFM_BENCH_PLUGINS", "acme,acmee")
    with pytest.raises(UsageError) as err:
        plugin_sandbox.load()
    message = str(err.value)
    assert "'acmee'" in message and "matches no installed plugin" in message
    assert "Did you mean: acme" in message
    assert "acme (acme-vit 1.0)" in message and "zeta (zeta 1.0)" in message
    assert "'acme'," not in message.split("names ")[1]          # only the unknown name is blamed
    # the failed reload changed nothing: what the last good allowlist loaded is still registered
    assert "acme_vit" in {e.name for e in entries("backbones")}
    # a distribution name (not only an entry-point name) is a valid allowlist entry
    monkeypatch.setenv("FSFM_BENCH_PLUGINS", "acme-vit")
    names = {i.name for i in plugin_sandbox.load()}
    assert "acme" in names and "zeta" not in names


def test_allowlist_typo_fails_on_the_command_line_and_empty_means_builtins():
    import os

    env = {**os.environ, "FSFM_BENCH_PLUGINS": "exmaple"}
    bad = _cli("ls", "backbones", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "FSFM_BENCH_PLUGINS='exmaple' names 'exmaple'" in bad.stderr
    assert bad.stdout == ""
    empty = _cli("ls", "backbones", env={**os.environ, "FSFM_BENCH_PLUGINS": ""})
    assert empty.returncode == 0, empty.stderr
    assert "fsfm " in empty.stdout and "example_vit" not in empty.stdout
