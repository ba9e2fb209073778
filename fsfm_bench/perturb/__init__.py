"""Test-time perturbations for robustness evaluation (the ``perturbations`` plugin kind).

The built-in families are DeeperForensics-1.0's seven distortions at its five severity levels
(``fsfm_bench_plugins.perturbations``; docs/robustness.md has the parameter table). An evaluation
with ``perturb=...`` scores every target row again under each requested condition, with the same
fine-tuned checkpoint (nothing is retrained); see :mod:`fsfm_bench.protocols.robustness`.
"""
from .base import LEVELS, Perturbation
from .spec import Condition, parse_perturb


def families() -> dict[str, Perturbation]:
    """Every registered family, by name, in the order ``fsfm-bench ls perturbations`` lists them
    (the built-ins first, in DeeperForensics-1.0's order)."""
    from ..plugins import entries

    found = {e.name: e.obj() for e in entries("perturbations")}
    builtin = [n for n in ("CS", "CC", "BW", "GNC", "GB", "JPEG", "VC") if n in found]
    return {n: found[n] for n in builtin + sorted(n for n in found if n not in builtin)}


def conditions(value, registered: dict[str, Perturbation] | None = None) -> list[Condition]:
    """``perturb=`` parsed against the registered families."""
    return parse_perturb(value, list(registered if registered is not None else families()))


__all__ = ["LEVELS", "Perturbation", "Condition", "parse_perturb", "families", "conditions"]
