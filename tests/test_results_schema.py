"""The result schema accepts a real result and rejects each missing required field."""
import copy

import pytest
from results_testutil import make_result, tiny_scores

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.io import sha256_json
from fsfm_bench.results import SCHEMA_VERSION, compute_metrics, validate_result
from fsfm_bench.schemas import load_schema


@pytest.fixture(scope="module")
def real_result():
    scores = tiny_scores()
    result = make_result(scores, metrics=("auc", "eer", "hter", "tpr_at_fpr@0.1"),
                         threshold_source="source_val_eer")
    result["scores_file"] = "x.scores.csv"
    return result


def test_schema_accepts_a_real_result(real_result):
    validate_result(real_result)
    assert real_result["schema_version"] == SCHEMA_VERSION
    entry = real_result["results"]["CDFv2"]["video"]["hter"]
    assert entry["threshold_source"] == "source_val_eer"
    assert entry["n"] == 12 and entry["n_fake"] == 6 and entry["n_real"] == 6
    assert entry["ci"]["unit"] == "video" and entry["ci"]["n_resamples"] == 20
    assert real_result["results"]["CDFv2"]["frame"]["auc"]["n"] == 36
    assert real_result["config_hash"] == sha256_json(real_result["config"])
    env = real_result["environment"]
    assert env["packages"]["scikit-learn"] and "revision" in env["git"] and env["hardware"]["cpu_count"]


@pytest.mark.parametrize("field", load_schema("result")["required"])
def test_schema_rejects_each_missing_required_field(real_result, field):
    broken = copy.deepcopy(real_result)
    del broken[field]
    with pytest.raises(FsfmBenchError, match=f"'{field}' is a required property"):
        validate_result(broken)


@pytest.mark.parametrize("path, field", [
    (("results", "CDFv2", "frame", "auc"), "n"),
    (("results", "CDFv2", "frame", "auc"), "ci"),
    (("results", "CDFv2", "frame", "auc"), "value"),
    (("protocol",), "version"),
    (("backbone",), "version"),
    (("checkpoint",), "sha256"),
    (("environment",), "git"),
    (("timing",), "wall_time_s"),
    (("seeds",), "seed"),
])
def test_schema_rejects_missing_nested_fields(real_result, path, field):
    broken = copy.deepcopy(real_result)
    node = broken
    for key in path:
        node = node[key]
    del node[field]
    with pytest.raises(FsfmBenchError, match=f"'{field}' is a required property"):
        validate_result(broken)


def test_schema_rejects_bad_values(real_result):
    for mutate, message in [
        (lambda r: r.__setitem__("selection_policy", "best_on_test"), "best_on_test"),
        (lambda r: r["results"]["CDFv2"].__setitem__("clip", r["results"]["CDFv2"]["frame"]), "clip"),
        (lambda r: r.__setitem__("schema_version", "2.0"), "2.0"),
        (lambda r: r["config"].__setitem__("seed", 99), "config_hash does not match"),
    ]:
        broken = copy.deepcopy(real_result)
        mutate(broken)
        with pytest.raises(FsfmBenchError, match=message):
            validate_result(broken)


def test_schema_documents_every_property():
    schema = load_schema("result")
    missing = []

    def walk(node, where):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and "$ref" not in sub:
                missing.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")

    walk(schema, "result")
    for name, sub in schema["$defs"].items():
        walk(sub, f"$defs.{name}")
    assert missing == []


def test_source_val_eer_needs_val_rows():
    scores = tiny_scores(val=False)
    with pytest.raises(FsfmBenchError, match="source validation scores"):
        compute_metrics(scores, ["hter"], threshold_source="source_val_eer", n_resamples=0)
