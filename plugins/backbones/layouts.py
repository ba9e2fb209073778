"""Key converters: one function per official checkpoint layout -> timm ``VisionTransformer`` names.

Each takes whatever ``safe_load.load_file`` returned (a training checkpoint or a bare state dict) and
returns a :class:`Converted`: the encoder tensors in timm naming, ``(regex, note)`` pairs for keys
that are removed on purpose when loading, and notes about what the converter itself left out. Everything else must match the model (checked strictly by
``fsfm_bench.checkpoints.load_checked``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fsfm_bench.checkpoints import unwrap
from fsfm_bench.errors import FsfmBenchError

Drops = list[tuple[str, str]]


@dataclass
class Converted:
    state_dict: dict[str, Any]
    drops: Drops = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

# FSFM / FS-VFM online (checkpoint-N.pth) and target (checkpoint-te-N.pth) networks, fsfm_bench's
# own pretraining output: the encoder is in timm names, the rest is pretraining-only.
FSFM_DROPS: Drops = [
    (r"^mask_token$", "FSFM shared mask token (pretraining only)"),
    (r"^decoder_", "FSFM MIM pixel decoder"),
    (r"^rep_decoder_", "FSFM representation (ID) decoder"),
    (r"^projector\.", "FSFM ID projector"),
    (r"^predictor\.", "FSFM ID predictor"),
]
MAE_DROPS: Drops = [
    (r"^mask_token$", "MAE mask token (pretraining only)"),
    (r"^decoder_", "MAE pixel decoder"),
]
FARL_DROPS: Drops = [
    (r"^visual\.(mask_token|lm_transformer\.|ln_lm\.|lm_head\.)", "FaRL masked-image-modelling head"),
]


def _strip(sd: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in sd.items()}


def _drop_now(sd: dict[str, Any], drops: Drops) -> tuple[dict[str, Any], dict[str, int]]:
    import re

    counts: dict[str, int] = {}
    out = {}
    for k, v in sd.items():
        for pattern, note in drops:
            if re.match(pattern, k):
                counts[note] = counts.get(note, 0) + 1
                break
        else:
            out[k] = v
    return out, counts


def convert_fsfm(obj: Any, vit: Any, source: str) -> Converted:
    """FSFM/FS-VFM ``{"model": ...}`` (also fsfm-bench pretraining output); DDP ``module.`` tolerated."""
    sd = _strip(unwrap(obj, ("model", "state_dict"), what=source), "module.")
    return Converted(sd, list(FSFM_DROPS))


def convert_mae(obj: Any, vit: Any, source: str) -> Converted:
    """Official MAE ``{"model": ...}`` (encoder already in timm names)."""
    sd = _strip(unwrap(obj, ("model", "state_dict"), what=source), "module.")
    return Converted(sd, list(MAE_DROPS))


def convert_dino(obj: Any, vit: Any, source: str) -> Converted:
    """DINO: a bare backbone state dict, or the full training checkpoint's ``teacher`` (``backbone.``)."""
    if isinstance(obj, dict) and ("teacher" in obj or "student" in obj):
        if "teacher" not in obj:
            raise FsfmBenchError(f"{source} is a DINO training checkpoint without a 'teacher' entry")
        sd = _strip(unwrap(obj["teacher"], (), what=f"{source} ['teacher']"), "module.")
        if not any(k.startswith("backbone.") for k in sd):
            raise FsfmBenchError(f"{source}: the DINO teacher has no 'backbone.' keys; not a DINO checkpoint?")
        drops: Drops = [(r"^head\.", "DINO projection head (teacher)")]
        head = {k: v for k, v in sd.items() if k.startswith("head.")}
        enc = {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
        other = [k for k in sd if not k.startswith(("head.", "backbone."))]
        return Converted({**enc, **head, **{k: sd[k] for k in other}}, drops)
    sd = _strip(unwrap(obj, ("model", "state_dict", "teacher"), what=source), "module.")
    return Converted(_strip(sd, "backbone."))


def convert_openai_clip(obj: Any, vit: Any, source: str) -> Converted:
    """OpenAI-CLIP layout (CLIP, open_clip's OpenAI weights, FaRL's ``{"state_dict": ...}``) via timm.

    timm's own converter (``_convert_openai_clip``) maps conv1/ln_pre/resblocks/in_proj/... to its
    CLIP-style ViT; the text tower is skipped by it, FaRL's MIM head is dropped here first, and a
    state dict that is already in timm names passes through unchanged.
    """
    from timm.models.vision_transformer import _convert_openai_clip

    sd = _strip(unwrap(obj, ("state_dict", "model"), what=source), "module.")
    if "patch_embed.proj.weight" in sd:          # already timm layout (e.g. timm's own .openai file)
        return Converted(sd)
    sd, dropped = _drop_now(sd, FARL_DROPS)
    if "visual.class_embedding" in sd:
        prefix = "visual."
    elif "class_embedding" in sd and "conv1.weight" in sd:
        prefix = ""
    else:
        raise FsfmBenchError(f"{source} is not in the OpenAI-CLIP layout (no visual.class_embedding / "
                             "conv1.weight); is it a checkpoint of another model?")
    text_keys = [k for k in sd if prefix and not k.startswith(prefix)]
    out = _convert_openai_clip(sd, vit, prefix=prefix)
    notes = [f"dropped {n} keys: {note}" for note, n in dropped.items()]
    if text_keys:
        notes.append(f"dropped {len(text_keys)} keys: text tower")
    return Converted(out, [], notes)


def convert_mcf(obj: Any, vit: Any, source: str) -> Converted:
    """MCF: the momentum (target) encoder under ``target_encoder.``; its BN projector ``fc.*`` dropped."""
    sd = _strip(unwrap(obj, ("model", "state_dict"), what=source), "module.")
    target = {k[len("target_encoder."):]: v for k, v in sd.items() if k.startswith("target_encoder.")}
    if not target:
        raise FsfmBenchError(f"{source} has no 'target_encoder.' keys, so it is not an MCF checkpoint; "
                             "a plain ViT state dict loads with backbone=mae or backbone=supervised")
    rest = len(sd) - len(target)
    notes = [f"dropped {rest} keys: MCF online encoder, decoder and predictor (pretraining only)"] if rest else []
    return Converted(target, [(r"^fc\.", "MCF contrastive projector (target encoder)")], notes)


def convert_timm(obj: Any, vit: Any, source: str) -> Converted:
    """timm's own layout (timm Hub ``model.safetensors`` / ``pytorch_model.bin``)."""
    return Converted(_strip(unwrap(obj, ("model", "state_dict", "state_dict_ema"), what=source), "module."))


CONVERTERS = {
    "fsfm": convert_fsfm,
    "mae": convert_mae,
    "dino": convert_dino,
    "dino_full": convert_dino,
    "openai_clip": convert_openai_clip,
    "mcf": convert_mcf,
    "timm": convert_timm,
}
