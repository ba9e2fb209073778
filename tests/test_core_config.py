"""key=value parsing, composition, unknown keys with suggestions, the config hash."""
from __future__ import annotations

import hashlib

import pytest

from fsfm_bench.config import apply_overrides, config_hash, parse_overrides, parse_value, save_config
from fsfm_bench.errors import UsageError


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("-2", -2), ("1e-4", 1e-4), ("2.5e-4", 2.5e-4), (".5", 0.5), ("true", True),
    ("False", False), ("null", None), ("none", None), ("fsfm", "fsfm"), ("0,1,2", [0, 1, 2]),
    ("[1, 2.5, x]", [1, 2.5, "x"]), ("{a: 1, b: [true]}", {"a": 1, "b": [True]}),
    ("on", "on"), ("no", "no"), ("hf://org/repo/file.pth", "hf://org/repo/file.pth"), ("a,b", ["a", "b"]),
])
def test_parse_value(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_overrides_keeps_dotted_keys():
    assert parse_overrides(["optim.lr=1e-3", "seeds=0,1"]) == {"optim.lr": 1e-3, "seeds": [0, 1]}


@pytest.mark.parametrize("word, message", [
    ("lr", "expected key=value"), ("=3", "malformed key"), ("a..b=1", "malformed key"),
    ("9lives=1", "malformed key"),
])
def test_malformed_overrides(word, message):
    with pytest.raises(UsageError, match=message):
        parse_overrides([word])


def test_duplicate_override():
    with pytest.raises(UsageError, match="given twice"):
        parse_overrides(["a=1", "a=2"])


def test_unknown_key_suggests_nearest():
    data = {"optim": {"lr": 1.0, "weight_decay": 0.05}, "epochs": 10}
    with pytest.raises(UsageError, match=r"unknown config key 'optim.wieght_decay'.*optim.weight_decay"):
        apply_overrides(data, {"optim.wieght_decay": 0.1})
    apply_overrides(data, {"optim.lr": 2e-4, "epochs": 3})
    assert data == {"optim": {"lr": 2e-4, "weight_decay": 0.05}, "epochs": 3}


def test_open_keys_accept_new_entries():
    data = {"open_keys": ["data.roots"], "data": {"roots": {}}}
    apply_overrides(data, {"data.roots.ffpp": "/data/ffpp"})
    assert data["data"]["roots"] == {"ffpp": "/data/ffpp"}
    with pytest.raises(UsageError):
        apply_overrides(data, {"data.other": 1})


def test_hash_is_canonical_and_sensitive(tmp_path):
    a = {"b": 1, "a": {"y": [1, 2], "x": "s"}}
    b = {"a": {"x": "s", "y": [1, 2]}, "b": 1}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "b": 2})
    assert config_hash({"x": 1, "a": [1.5, None]}) == hashlib.sha256(b'{"a":[1.5,null],"x":1}').hexdigest()
    digest = save_config(a, tmp_path)
    assert (tmp_path / "config.sha256").read_text().strip() == digest
    import yaml

    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == a


def test_non_finite_values_are_refused():
    with pytest.raises(UsageError, match="finite"):
        config_hash({"lr": float("nan")})


def test_compose_unknown_protocol_suggests():
    from fsfm_bench.config import compose

    with pytest.raises(UsageError, match="unknown protocol 'zzz_not_there'"):
        compose(protocol="zzz_not_there")


def test_print_config_flag_prints_yaml_and_hash_then_exits(tmp_path):
    """--print-config works for any command that composes a config (here: pretrain)."""
    import subprocess
    import sys

    import yaml

    from fsfm_bench.config import compose, config_hash

    out = subprocess.run([sys.executable, "-m", "fsfm_bench", "pretrain", "recipe=fsfm_tiny",
                          "optim.blr=0.002", f"work_dir={tmp_path / 'run'}", "--print-config"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    body, _, tail = out.stdout.rpartition("# config sha256: ")
    printed = yaml.safe_load(body)
    assert printed["optim"]["blr"] == 0.002
    assert tail.strip() == config_hash(printed)
    assert not (tmp_path / "run").exists()           # nothing ran
    expected = compose(recipe="fsfm_tiny", overrides={"optim.blr": 0.002, "work_dir": str(tmp_path / "run")})
    assert config_hash(expected) == tail.strip()
