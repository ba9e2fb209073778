"""A config value that cannot work is a one-line usage error when the config is composed, before any
work (it used to fail late, after preparing data or pretraining, as an internal error)."""
from __future__ import annotations

import pytest

from fsfm_bench.cli import main as cli_main
from fsfm_bench.config import compose
from fsfm_bench.errors import UsageError


@pytest.mark.parametrize("key,value", [
    ("finetune.epochs", 0), ("finetune.epochs", -3), ("finetune.batch_size", 0), ("finetune.blr", -1),
    ("finetune.blr", float("nan")), ("finetune.img_size", 7), ("seeds", 2**64), ("seeds", [0, -1]),
    ("eval.batch_size", 0), ("finetune.epochs", 2.5), ("finetune.max_iters", 0),
])
def test_run_config_values_that_cannot_work(key, value):
    with pytest.raises(UsageError) as info:
        compose(protocol="demo", backbone="fsfm", overrides={key: value})
    assert str(info.value).startswith(f"{key}=") and "\n" not in str(info.value)


@pytest.mark.parametrize("key,value", [("schedule.epochs", 0), ("data.batch_size", 0), ("optim.blr", -1),
                                       ("model.img_size", 7), ("seed", 2**40)])
def test_pretrain_config_values_that_cannot_work(key, value):
    with pytest.raises(UsageError, match=f"^{key}="):
        compose(recipe="fsfm_tiny", overrides={key: value})


def test_bad_value_is_exit_2_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["run", "protocol=demo", "backbone=fsfm", "finetune.epochs=0", f"work_dir={tmp_path}/runs"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "finetune.epochs=0" in err
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_recipes_and_protocols_pass():
    for protocol in ("demo", "cdfd", "cdfas", "diff"):
        compose(protocol=protocol, backbone="fsfm")
    for recipe in ("fsfm", "fsfm_tiny", "mae", "finetune_fas"):
        compose(recipe=recipe)
