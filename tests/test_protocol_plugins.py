"""A protocol plugin ships its own recipe, reported rows and task (fsfm_bench.protocols.files,
fsfm_bench.protocols.tasks): files resolve beside the protocol's YAML first, then in the core; the
``reported:`` field is what the leaderboard reads; ``task`` is checked against the task registry.
The example plugin's `fsfm-bench run` (its recipe in the result, its reported rows on its board) is
tests/test_metrics_plugins.py::test_example_protocol_runs_with_the_plugin_metric (one run for both)."""
from __future__ import annotations

from pathlib import Path

import pytest

from fsfm_bench.errors import UsageError
from fsfm_bench.plugins import get
from fsfm_bench.protocols.spec import Protocol

MODULE = """
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

@hookimpl
def register_tasks(register):
    from fsfm_bench.protocols import TaskSpec
    register("spotting", TaskSpec("spotting", adapter="linear_probe", metrics=("auc", "eer"), positive_class="fake"))

@hookimpl
def register_protocols(register):
    from fsfm_bench.protocols import ProtocolDefinition
    definition = ProtocolDefinition.from_file({path!r})
    register(definition.ref, definition)
    register(definition.id, definition)
"""

PROTOCOL = """
id: {id}
version: 1
title: a third-party protocol
task: {task}
recipe: {recipe}
train: [{{dataset: demo, split: train}}]
validation: {{dataset: demo, split: val}}
targets: [{{name: unseen, dataset: demo, split: test}}]
granularity: [frame]
aggregation: mean
selection: {{policy: source_val}}
threshold: fixed_0.5
seeds: [0]
reported: {reported}
{extra}"""

REPORTED = """
schema_version: "1.0"
protocol: {ref}
targets: [unseen]
unit: percent
sources: {{s: {{kind: from-authors-log, citation: "the plugin's own log", priority: 1}}}}
rows:
  - {{paper_name: Mine, backbone: example_vit, variant: null, granularity: frame, metric: auc,
     selection_policy: source_val, source: s, values: {{unseen: 61.5}}}}
"""


def _protocol_plugin(sandbox, folder: Path, dist: str, pid: str = "spotter", task: str = "spotting",
                     recipe: str = "finetune_demo", reported: str = "reported/mine.yaml", extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pid}.yaml"
    path.write_text(PROTOCOL.format(id=pid, task=task, recipe=recipe, reported=reported, extra=extra))
    sandbox.add(dist, MODULE.format(path=str(path)))
    return path


def test_task_is_checked_against_the_registry_with_did_you_mean():
    data = get("protocols", "demo@1").default_config()
    data["task"] = "deepfak"
    with pytest.raises(UsageError) as err:
        Protocol.from_dict(data)
    assert str(err.value).startswith("protocol demo@1: unknown task 'deepfak'. Did you mean: deepfake")
    assert "\n" not in str(err.value) and "fsfm-bench ls tasks" in str(err.value)


def test_the_task_fills_what_a_protocol_leaves_out_and_refuses_a_contradiction():
    data = get("protocols", "cdfas@2").default_config()
    for key in ("adapter", "metrics", "positive_class"):
        data.pop(key)
    first = Protocol.from_dict({**data, "variant": "M"})
    assert (first.adapter, first.metrics, first.positive_class) == ("fas_head", ("auc", "hter", "tpr_at_fpr@0.01"),
                                                                    "attack")
    with pytest.raises(UsageError, match="protocol cdfas@2: positive_class 'fake' contradicts its task "
                                         "'anti_spoofing', whose positive class is 'attack'"):
        Protocol.from_dict({**data, "variant": "M", "positive_class": "fake"})


def test_a_third_party_protocol_uses_its_own_recipe_task_and_reported_file(plugin_sandbox, tmp_path):
    from fsfm_bench.config import compose
    from fsfm_bench.results.reported import load_reported, standalone_refs

    folder = tmp_path / "proto"
    _protocol_plugin(plugin_sandbox, folder, "spot-dist")
    # a recipe beside the protocol wins over the core's recipe of the same name
    (folder / "finetune_demo.yaml").write_text("finetune: {epochs: 4, blr: 0.03}\neval: {bootstrap: 7}\n")
    (folder / "reported").mkdir()
    (folder / "reported" / "mine.yaml").write_text(REPORTED.format(ref="spotter@1"))
    plugin_sandbox.load()
    cfg = compose(protocol="spotter", backbone="example_vit").to_dict()
    assert cfg["finetune"] == {"epochs": 4, "blr": 0.03} and cfg["recipe_name"] == "finetune_demo"
    assert cfg["protocol"]["adapter"] == "linear_probe" and cfg["protocol"]["metrics"] == ["auc", "eer"]
    assert compose(protocol="demo@1").to_dict()["finetune"]["epochs"] == 10      # the core's stays the core's
    docs = load_reported()
    mine = docs["spotter@1"]
    assert mine["file"] == "mine.yaml" and mine["rows"][0]["values"] == {"unseen": 61.5} and not mine["builtin"]
    # the core's boards keep their reported-only pages; a third party's appear beside its results
    assert "spotter@1" not in standalone_refs(docs) and "cdfd@1" in standalone_refs(docs)


def test_a_protocol_naming_a_file_it_does_not_ship_is_refused_naming_protocol_and_path(plugin_sandbox, tmp_path):
    folder = tmp_path / "lost"
    _protocol_plugin(plugin_sandbox, folder, "lost-dist", pid="lost", recipe="recipes/nope")
    with pytest.warns(RuntimeWarning, match="lost-dist"):
        infos = plugin_sandbox.load()
    error = next(i for i in infos if i.name == "lost-dist").error
    assert "\n" not in error
    assert (f"protocol lost@1: its recipe 'recipes/nope' is missing: looked for {folder}/recipes/nope.yaml and "
            "configs/recipes/recipes/nope.yaml") in error
    with pytest.raises(UsageError, match=r"protocol lost@1: its reported 'gone.yaml' is missing: looked for .*"
                                         r"lost/gone.yaml and registry/reported/gone.yaml"):
        from fsfm_bench.protocols import ProtocolDefinition

        path = folder / "lost.yaml"
        path.write_text(PROTOCOL.format(id="lost", task="demo", recipe="finetune_demo", reported="gone.yaml", extra=""))
        ProtocolDefinition.from_file(path)


def test_a_protocol_naming_another_protocols_reported_file_is_an_error(plugin_sandbox, tmp_path):
    from fsfm_bench.errors import FsfmBenchError
    from fsfm_bench.results.reported import load_reported

    _protocol_plugin(plugin_sandbox, tmp_path / "p", "copy-dist", pid="copycat", task="demo",
                     reported="registry/reported/cdfd.yaml")
    plugin_sandbox.load()
    with pytest.raises(FsfmBenchError, match="protocol copycat@1 names registry/reported/cdfd.yaml for its reported "
                                             "numbers, but that file holds numbers for cdfd@2, cdfd@1"):
        load_reported()


def test_the_protocol_helper_passes_the_builtins_and_fails_on_a_foreign_reported_file(tmp_path):
    from fsfm_bench.testing import assert_protocol_contract

    for name in ("cdfd@1", "cdfas@2", "diff@1", "demo"):
        assert_protocol_contract(name)
    (tmp_path / "theirs.yaml").write_text(REPORTED.format(ref="someone_else@1"))
    path = tmp_path / "mine.yaml"
    path.write_text(PROTOCOL.format(id="mine", task="demo", recipe="finetune_demo", reported="theirs.yaml", extra=""))
    with pytest.raises(AssertionError, match=r"mine@1: theirs.yaml holds numbers for \['someone_else@1'\]"):
        assert_protocol_contract(path)


def test_a_third_party_demo_pretrains_with_the_recipe_it_ships(plugin_sandbox, tmp_path, monkeypatch):
    """``pretrain_if_no_checkpoint.recipe`` resolves like ``recipe:``: beside the protocol first, then
    the core's. The plugin here ships a 2-block variant of the core's demo pretraining recipe; the
    scratch baseline is built in its sizes and the demo pretraining composes it."""
    from types import SimpleNamespace

    import yaml

    from fsfm_bench.plugins import get
    from fsfm_bench.pretrain import run as pretrain_run
    from fsfm_bench.pretrain.run import compose_pretrain
    from fsfm_bench.protocols.demo_backbones import demo_architecture
    from fsfm_bench.protocols.plan import pretrain_tiny

    core = compose_pretrain("fsfm_demo", {})
    assert core["model"]["depth"] == 3
    mine = {k: v for k, v in core.items() if k != "recipe_name"}
    mine["model"] = {**mine["model"], "depth": 2}
    folder = tmp_path / "proto"
    _protocol_plugin(plugin_sandbox, folder, "pre-dist", pid="pretrainer",
                     extra="pretrain_if_no_checkpoint: {recipe: pretrain_mine, dataset: demo, scratch: [vit_scratch]}\n")
    (folder / "pretrain_mine.yaml").write_text(yaml.safe_dump(mine))
    (folder / "reported").mkdir()
    (folder / "reported" / "mine.yaml").write_text(REPORTED.format(ref="pretrainer@1"))
    plugin_sandbox.load()
    assert compose_pretrain("pretrain_mine", {}, protocol="pretrainer@1")["model"]["depth"] == 2
    assert compose_pretrain("fsfm_demo", {}, protocol="pretrainer@1") == core          # the core's, as a fallback
    (protocol,) = get("protocols", "pretrainer@1")()
    assert demo_architecture(protocol.pretrain_if_no_checkpoint, protocol.ref)["depth"] == 2

    seen = {}

    def pretend_to_pretrain(pcfg, recipe, **kw):          # the wiring, not the training: record and stop
        seen.update(pcfg=pcfg, recipe=recipe)
        raise KeyboardInterrupt

    monkeypatch.setattr(pretrain_run, "run_pretrain", pretend_to_pretrain)
    prepared = SimpleNamespace(folder=tmp_path / "faces", manifest_sha256="0" * 64)
    resolver = SimpleNamespace(get=lambda *args: prepared)
    with pytest.raises(KeyboardInterrupt):
        pretrain_tiny(protocol, resolver, {"data": {"cache_dir": str(tmp_path / "cache")}}, log=lambda s: None)
    assert seen["recipe"] == "pretrain_mine" and seen["pcfg"]["model"]["depth"] == 2
    assert seen["pcfg"]["data"]["source"] == str(tmp_path / "faces")


def test_a_protocol_naming_a_pretraining_recipe_it_does_not_ship_is_refused(plugin_sandbox, tmp_path):
    folder = tmp_path / "nopre"
    _protocol_plugin(plugin_sandbox, folder, "nopre-dist", pid="nopre",
                     extra="pretrain_if_no_checkpoint: {recipe: pretrain_gone, dataset: demo}\n")
    (folder / "reported").mkdir()
    (folder / "reported" / "mine.yaml").write_text(REPORTED.format(ref="nopre@1"))
    with pytest.warns(RuntimeWarning, match="nopre-dist"):
        infos = plugin_sandbox.load()
    error = next(i for i in infos if i.name == "nopre-dist").error
    assert "recipe 'pretrain_gone' is missing" in error and str(folder / "pretrain_gone.yaml") in error
