"""Dataset cards: every adapter has a schema-valid card whose options match the adapter's."""
from __future__ import annotations

import copy

import pytest

from fsfm_bench.data.cards import card_names, load_card
from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.plugins import entries, get
from fsfm_bench.schemas import validate

OFFICIAL = ["casia_fasd", "celeba_spoof", "celebdf_v1", "celebdf_v2", "dfd", "dfdc", "dfdc_preview", "diff",
            "ffpp", "folder", "list", "msu_mfsd", "oulu_npu", "replay_attack", "vggface2", "wilddeepfake"]


def test_every_official_layout_has_an_adapter_and_a_card():
    registered = {e.name for e in entries("datasets")}
    assert set(OFFICIAL) <= registered
    assert set(OFFICIAL) <= set(card_names())


@pytest.mark.parametrize("name", OFFICIAL)
def test_card_is_valid_and_matches_adapter(name):
    card = load_card(name)
    adapter = get("datasets", name)()
    assert card["name"] == name and adapter.card == card
    assert {k: v.get("default") for k, v in (card.get("options") or {}).items()} == adapter.defaults
    assert card["licence"]["redistribution"] is False
    assert card["sources"] and all(s["where"] for s in card["sources"])
    for split, c in (card.get("expected_counts") or {}).items():
        assert split in ("train", "val", "test") and set(c) == {"real", "fake"}


def test_schema_rejects_broken_cards():
    card = load_card("ffpp")
    bad = copy.deepcopy(card)
    del bad["licence"]
    with pytest.raises(FsfmBenchError, match="licence"):
        validate(bad, "dataset_card", "card")
    bad = copy.deepcopy(card)
    bad["expected_counts"]["dev"] = {"real": 1, "fake": 1}
    with pytest.raises(FsfmBenchError, match="expected_counts"):
        validate(bad, "dataset_card", "card")
    bad = copy.deepcopy(card)
    bad["expected_counts"]["test"]["real"] = -1
    with pytest.raises(FsfmBenchError):
        validate(bad, "dataset_card", "card")


def test_unknown_card_suggests_names():
    with pytest.raises(FsfmBenchError, match="Did you mean: ffpp"):
        load_card("ffp")
