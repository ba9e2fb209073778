"""``fsfm-bench weights list|verify``: the checkpoint catalogue, and a check of a file against its card.

``verify PATH`` answers "can I trust and use this file?": its sha256 against the card, whether it
opens without unpickling code, whether every encoder key fits the card's backbone and architecture,
whether its mean/std are known, and that a forward pass runs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..config import bool_option
from ..errors import FsfmBenchError, UsageError

VERIFY_OPTIONS = ("card", "backbone", "trust_checkpoint")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "verify"], help="list the catalogue, or verify PATH")
    parser.add_argument("words", nargs=argparse.REMAINDER, metavar="PATH|key=value",
                        help="list: backbone=NAME; verify: PATH [card=NAME] [backbone=NAME] [trust_checkpoint=true]")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def main(args: argparse.Namespace) -> int:
    from ..config import parse_overrides

    as_json = args.json or "--json" in args.words
    words = [w for w in args.words if w != "--json"]
    flags = [w for w in words if w.startswith("-")]
    if flags:
        raise UsageError(f"unknown flag {flags[0]!r} for `fsfm-bench weights` (only --json)")
    positional = [w for w in words if "=" not in w]
    options = parse_overrides([w for w in words if "=" in w])
    if args.action == "list":
        if positional:
            raise UsageError(f"`weights list` takes no paths, got {positional[0]!r} (filter with backbone=NAME)")
        return _list(options, as_json)
    if len(positional) != 1:
        raise UsageError("usage: fsfm-bench weights verify PATH [card=NAME] [backbone=NAME] [trust_checkpoint=true]")
    unknown = [k for k in options if k not in VERIFY_OPTIONS]
    if unknown:
        from ..errors import did_you_mean

        raise UsageError(f"unknown option {unknown[0]!r} for `weights verify`." + did_you_mean(unknown[0], VERIFY_OPTIONS))
    return _verify(positional[0], options, as_json)


def _list(options: dict[str, Any], as_json: bool) -> int:
    from ..checkpoints import list_cards

    extra = [k for k in options if k != "backbone"]
    if extra:
        raise UsageError(f"unknown option {extra[0]!r} for `weights list` (only backbone=NAME)")
    backbone = options.get("backbone")
    cards = list_cards(None if backbone is None else str(backbone))
    if backbone is not None and not cards:
        from ..errors import did_you_mean

        known = sorted({c.backbone for c in list_cards()})
        raise UsageError(f"no checkpoint card for backbone {backbone!r}." + did_you_mean(str(backbone), known)
                         + " See `fsfm-bench weights list`.")
    if as_json:
        print(json.dumps([c.data for c in cards], indent=2))
        return 0
    rows = [("NAME", "BACKBONE", "ARCH", "SIZE", "MEAN / STD", "SHA256", "LICENCE", "SOURCE")]
    for c in cards:
        rows.append((c.name + (" *" if c.default else ""), c.backbone, c.arch, str(c.input_size),
                     _mean_std_label(c.mean_std), c.sha256[:12] if c.sha256 else "-", c.licence.split(" ")[0],
                     c.source or "by hand: see card"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        # widths covers all but the last column, which is printed unpadded after the zip
        print("  ".join(f"{v:<{w}}" for v, w in zip(r, widths, strict=False)) + "  " + r[-1])
    print("\n* = the backbone's checkpoint=default. SHA256 '-' = not recorded yet (verify a download and add it).")
    return 0


def _mean_std_label(mean_std) -> str:
    """A short name for a common normalisation, else the numbers (3 decimals); '-' when the card has none
    (the file beside the checkpoint, e.g. FSFM's pretrain_ds_mean_std.txt, then decides)."""
    from ..backbone_spec import NAMED

    if not mean_std:
        return "-"
    for name, (m, s) in NAMED.items():
        if all(abs(a - b) < 1e-4 for a, b in zip(mean_std[0] + mean_std[1], m + s, strict=True)):
            return name
    return ",".join(f"{v:.3f}" for v in mean_std[0]) + " / " + ",".join(f"{v:.3f}" for v in mean_std[1])


def _pick_card(path: Path, sha: str, options: dict[str, Any]):
    from ..checkpoints import card_beside, find_card, get_card

    if options.get("card"):
        return get_card(str(options["card"])), "named by card="
    beside = card_beside(path)
    if beside is not None:
        return beside, f"beside the file ({beside.origin})"
    found = find_card(path, sha)
    if len(found) == 1:
        how = "sha256 match" if found[0].sha256 == sha else "released file name"
        return found[0], how
    if len(found) > 1:
        raise UsageError(f"{path.name} matches several cards ({', '.join(c.name for c in found)}); "
                         "say which with card=NAME")
    return None, "none"


def _verify(target: str, options: dict[str, Any], as_json: bool) -> int:
    import torch

    from .. import build_backbone
    from ..checkpoints import load_file, mean_std_beside, resolve
    from ..checkpoints.cards import is_card_name
    from ..io import sha256_file

    trust = bool_option(options, "trust_checkpoint")   # a typo must never switch on full unpickling
    if is_card_name(target) and not Path(target).exists():
        raise UsageError(f"{target!r} is a card name; verify checks a file you have: "
                         f"`fsfm-bench weights verify PATH card={target}`")
    path = resolve(target)
    checks: list[dict[str, Any]] = []

    def record(name: str, ok: bool | None, detail: str) -> None:
        checks.append({"check": name, "ok": ok, "detail": detail})

    sha = sha256_file(path)
    card, how = _pick_card(path, sha, options)
    record("card", card is not None or bool(options.get("backbone")),
           f"{card.name if card else '(none)'} ({how})" if card else
           "no card describes this file; pass card=NAME, or backbone=NAME to check keys only")
    if card is not None and card.sha256:
        ok = card.sha256.lower() == sha
        record("sha256", ok, f"{sha} {'matches' if ok else 'DIFFERS from'} the card ({card.sha256})")
    else:
        record("sha256", None, f"{sha} (the card records none to compare with)")
    try:
        load_file(path, trust=trust)
        record("safe load", True, "opens with weights_only/safetensors" if not trust else "opened (trusted)")
    except FsfmBenchError as exc:
        record("safe load", False, str(exc))
    backbone = options.get("backbone") or (card.backbone if card else None)
    if backbone and checks[-1]["ok"]:
        beside = mean_std_beside(path)
        mean_std = beside or (card.mean_std if card else None)
        record("mean/std", mean_std is not None,
               f"mean={list(mean_std[0])} std={list(mean_std[1])} "
               f"({'checkpoint-file' if beside else 'card'})" if mean_std else
               "unknown: put pretrain_ds_mean_std.txt beside the file or record mean/std in its card")
        kw = card.build_kwargs() if card else {}
        ms = mean_std or ((0.5,) * 3, (0.5,) * 3)   # unknown stats: the keys and forward pass still get checked
        kw.update(mean=ms[0], std=ms[1])
        try:
            model = build_backbone(str(backbone), checkpoint=str(path), trust_checkpoint=trust, **kw).eval()
            rep = model.load_report
            record("keys", True, f"{rep.loaded} tensors loaded into {backbone} ({getattr(model, 'vit', model).__class__.__name__}, "
                                 f"embed_dim {model.embed_dim}); " + "; ".join(rep.notes))
            with torch.no_grad():
                tokens = model.forward_features(torch.zeros(1, 3, model.input_size, model.input_size))
            finite = bool(torch.isfinite(tokens).all())
            record("forward", finite, f"tokens {list(tokens.shape)}{'' if finite else ' contain NaN/inf'}")
        except FsfmBenchError as exc:
            record("keys", False, str(exc))
    ok = all(c["ok"] is not False for c in checks)
    if as_json:
        print(json.dumps({"path": str(path), "sha256": sha, "ok": ok, "checks": checks}, indent=2))
    else:
        for c in checks:
            mark = {True: "OK  ", False: "FAIL", None: "--  "}[c["ok"]]
            print(f"{mark} {c['check']:<9} {c['detail']}")
        print(f"{'verified' if ok else 'NOT verified'}: {path}")
    return 0 if ok else 1
