"""Built-in perturbations: DeeperForensics-1.0's seven distortions, five levels each.

Registered objects are :class:`fsfm_bench.perturb.Perturbation` subclasses (``cls()`` is the
family); ``fsfm-bench eval ... perturb=all`` scores a fine-tuned checkpoint under each of them.
Parameters and their source: docs/robustness.md.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_perturbations(register):
    from .deeperforensics import BlockWise, ColorContrast, ColorSaturation, GaussianBlur, JpegCompression, WhiteNoise
    from .video import VideoCompression

    for cls in (ColorSaturation, ColorContrast, BlockWise, WhiteNoise, GaussianBlur, JpegCompression,
                VideoCompression):
        register(cls.code, cls)
