"""``perturb=``: which (perturbation, level) conditions an evaluation scores.

Accepted forms (comma-separated, any mix; names are case-insensitive): ``all`` (every registered
family at levels 1-5), ``GB`` (one family, levels 1-5), ``GB:3`` (one level), ``GB:1-3`` (a range),
``all:5`` (every family at one level); ``none``/empty/null: no robustness evaluation. An unknown
family or a level outside 1-5 is a one-line usage error with the nearest names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError, did_you_mean
from .base import LEVELS

USAGE = "use perturb=all, a family (perturb=GB), a level (perturb=GB:3), a range (GB:1-3) or a list (GB:3,JPEG)"


@dataclass(frozen=True)
class Condition:
    perturbation: str
    level: int

    @property
    def label(self) -> str:
        return f"{self.perturbation}:{self.level}"


def _levels(text: str, word: str) -> list[int]:
    if text == "":
        return list(range(1, LEVELS + 1))
    lo, sep, hi = text.partition("-")
    try:
        first, last = int(lo), int(hi) if sep else int(lo)
    except ValueError:
        raise UsageError(f"perturb={word}: {text!r} is not a level; levels are 1-{LEVELS}; {USAGE}") from None
    for level in (first, last):
        if not 1 <= level <= LEVELS:
            raise UsageError(f"perturb={word}: level {level} is outside 1-{LEVELS} (1 = mildest, {LEVELS} = most "
                             f"severe, as in DeeperForensics-1.0); {USAGE}")
    if first > last:
        raise UsageError(f"perturb={word}: empty level range {first}-{last}; write the lower level first")
    return list(range(first, last + 1))


def parse_perturb(value: Any, names: list[str]) -> list[Condition]:
    """The conditions ``value`` asks for, in registry order then level order (duplicates once).

    ``names``: the registered family names (``fsfm-bench ls perturbations``)."""
    if value in (None, False, "", "none", "None", "null") or value == []:
        return []
    words = value if isinstance(value, (list, tuple)) else str(value).split(",")
    by_lower = {n.lower(): n for n in names}
    wanted: set[Condition] = set()
    for raw in words:
        word = str(raw).strip()
        if not word:
            continue
        name, _, level_text = word.partition(":")
        levels = _levels(level_text.strip(), word)
        if name.strip().lower() == "all":
            families = list(names)
        elif name.strip().lower() in by_lower:
            families = [by_lower[name.strip().lower()]]
        else:
            hint = did_you_mean(name.strip().upper(), names) or did_you_mean(name.strip(), names)
            raise UsageError(f"perturb={word}: unknown perturbation {name.strip()!r}.{hint} {USAGE} "
                             "(`fsfm-bench ls perturbations` lists them)")
        wanted.update(Condition(f, lv) for f in families for lv in levels)
    order = {n: i for i, n in enumerate(names)}
    return sorted(wanted, key=lambda c: (order[c.perturbation], c.level))
