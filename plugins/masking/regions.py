"""LaPa labels and FSFM's region groups: the vocabulary every parsing-guided strategy shares.

The parsing maps fsfm-bench prepares hold the 11 LaPa labels of FACER's ``farl/lapa/448`` parser
(docs/method.md, "Face parsing maps"). FSFM's CRFR-P (docs/method.md, "Region groups") works on eight *groups* of labels whose list order
matters: a patch touching several groups is owned by the earliest one, and only the first six can
be the region that is covered in full.
"""
from __future__ import annotations

from collections.abc import Sequence

from fsfm_bench.bases.masking import NUM_LABELS  # noqa: F401 - the vocabulary's size, re-exported
from fsfm_bench.errors import UsageError, did_you_mean

LABEL_NAMES = ("background", "skin", "right_brow", "left_brow", "right_eye", "left_eye", "nose",
               "upper_lip", "inner_mouth", "lower_lip", "hair")

BOUNDARY = "boundary"
# (name, labels) in FSFM's order; BOUNDARY has no labels of its own: it is the patches that touch
# (hair or background) and skin.
GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("brows", (2, 3)),
    ("eyes", (4, 5)),
    ("nose", (6,)),
    ("mouth", (7, 8, 9)),
    (BOUNDARY, ()),
    ("hair", (10,)),
    ("skin", (1,)),
    ("background", (0,)),
)
GROUP_NAMES = tuple(name for name, _ in GROUPS)
NUM_GROUPS = len(GROUPS)
NUM_FACIAL_REGIONS = 6          # CRFR draws the covered region from GROUPS[:6]; skin, background never
FACIAL_REGIONS = GROUP_NAMES[:NUM_FACIAL_REGIONS]


def label_bits(labels: Sequence[int]) -> int:
    """The bit set of ``labels`` in the per-patch presence bitmask (bit l = label l)."""
    out = 0
    for label in labels:
        out |= 1 << label
    return out


def resolve_region(region: int | str | Sequence[int]) -> int:
    """Turn a forced region (group index, group name, or its label list such as [4, 5]) into its index.

    Only the six facial regions CRFR may cover are accepted, as in the paper.
    """
    if isinstance(region, bool):
        raise UsageError(f"region must be a group index, name or label list, not {region!r}")
    if isinstance(region, int):
        if 0 <= region < NUM_FACIAL_REGIONS:
            return region
        raise UsageError(f"region index {region} is out of range: CRFR covers one of the "
                         f"{NUM_FACIAL_REGIONS} facial regions 0..{NUM_FACIAL_REGIONS - 1} "
                         f"({', '.join(FACIAL_REGIONS)}).")
    if isinstance(region, str):
        if region in FACIAL_REGIONS:
            return FACIAL_REGIONS.index(region)
        raise UsageError(f"unknown facial region {region!r}." + did_you_mean(region, FACIAL_REGIONS))
    try:
        wanted = tuple(sorted(int(x) for x in region))
    except (TypeError, ValueError):
        raise UsageError(f"region must be a group index, name or label list, not {region!r}") from None
    for index, (_name, labels) in enumerate(GROUPS[:NUM_FACIAL_REGIONS]):
        if labels and tuple(sorted(labels)) == wanted:
            return index
    choices = ", ".join(f"{n}={list(members)}" for n, members in GROUPS[:NUM_FACIAL_REGIONS] if members)
    raise UsageError(f"labels {list(wanted)} are not one of the facial regions CRFR covers ({choices}; "
                     f"the boundary region has no labels: pass 'boundary' or {GROUP_NAMES.index(BOUNDARY)}).")
