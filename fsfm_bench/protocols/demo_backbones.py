"""Which weights a demo comparison starts from, and in which architecture.

A protocol with ``pretrain_if_no_checkpoint`` (the demo) compares backbones on bundled data in a few
minutes, so every backbone must (a) be built in the demo's tiny architecture and (b) start from
weights that mean something. Three random initialisations under three names are no comparison.
What a protocol whose ``pretrain_if_no_checkpoint`` names ``scratch`` baselines (demo@2) does
with each backbone:

- ``fsfm`` without a checkpoint: pretrained on the demo's real faces with the protocol's recipe
  (FSFM 3C with CRFR-P masking; cached), row variant ``demo-pretrained``;
- a ``scratch`` backbone (``vit_scratch``): the SAME architecture as that recipe's encoder, from
  random initialisation, row variant ``random-init``: the no-pretraining baseline;
- any other backbone without a checkpoint is refused (one error naming the choices);
- a backbone WITH a checkpoint runs in its own architecture (a released ViT-B is about 1000x the
  demo encoder's compute): allowed, with a note on what that costs.

demo@1 (no ``scratch`` key) keeps its old behaviour, so its results stay reproducible.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..io import sha256_json

#: the row variants that say where a demo row's weights came from
DEMO_PRETRAINED = "demo-pretrained"
RANDOM_INIT = "random-init"
#: keys of a pretraining config that say where files go, not what is trained
PLACE_KEYS = ("work_dir",)


def compares_weights(protocol) -> bool:
    """True for a protocol whose demo comparison refuses silent random initialisations."""
    spec = protocol.pretrain_if_no_checkpoint or {}
    return "scratch" in spec


def demo_architecture(spec: dict[str, Any], protocol: str | None = None) -> dict[str, int]:
    """The encoder sizes of ``protocol``'s pretraining recipe: what a scratch baseline is built as."""
    from ..pretrain.run import compose_pretrain

    model = compose_pretrain(spec["recipe"], {}, protocol=protocol)["model"]
    return {k: int(model[k]) for k in ("embed_dim", "depth", "num_heads", "patch_size")}


def pretraining_identity(pcfg: dict[str, Any], manifest_sha256: str) -> str:
    """What made a demo-pretrained encoder, independent of where it ran: the pretraining config
    without its output folder or the prepared data's location, plus the data's manifest hash.
    Rows are keyed on this instead of the encoder file's sha256, whose last bits differ between
    CPU instruction sets and thread counts (float round-off), so a fresh clone elsewhere lands on
    the committed row instead of opening a second one."""
    cfg = {k: v for k, v in pcfg.items() if k not in PLACE_KEYS}
    data = dict(cfg.get("data") or {})
    data.pop("source", None)
    cfg["data"] = data
    return "pretrain:" + sha256_json({"config": cfg, "manifest": manifest_sha256})[:16]


def resolve_demo_backbone(bb: dict[str, Any], ckpt: Any, protocol, log: Callable[[str], None]
                          ) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(backbone section, row fields, pretrain?) for a protocol that compares weights.

    ``pretrain`` True: the caller pretrains the demo encoder (fsfm without a checkpoint)."""
    spec = protocol.pretrain_if_no_checkpoint or {}
    name = str(bb.get("type"))
    if ckpt not in (None, ""):
        log(f"note: backbone {name} starts from checkpoint={ckpt} in the architecture that checkpoint has, "
            "which may not be the demo's tiny encoder: a released ViT-B takes tens of minutes on CPU and "
            "writes over 1 GB of checkpoints per run")
        return bb, {}, False
    if name == "fsfm":
        return bb, {"variant": DEMO_PRETRAINED}, True
    if name in spec.get("scratch", []):
        bb = {**bb, **demo_architecture(spec, protocol.ref)}
        return bb, {"variant": RANDOM_INIT}, False
    raise UsageError(
        f"protocol {protocol.ref} compares pretrained weights, and backbone {name} has none for it: run "
        f"backbone=fsfm (pretrained on the demo faces) or {' / '.join(spec.get('scratch', []))} (the same "
        f"architecture, no pretraining), or give {name} weights with checkpoint=default or checkpoint=PATH "
        "(its own architecture: tens of minutes on CPU)")
