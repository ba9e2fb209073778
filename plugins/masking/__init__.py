"""Built-in masking strategies: MAE's random masking and FSFM's facial-region strategies
(docs/method.md, "CRFR-P masking").

Each registered object is a class; ``fsfm_bench.build_masking(name, mask_ratio, patch_size)``
instantiates it, and the instance maps parsing maps [B, H, W] to (mask [B, N], focus [B, N]).
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_masking_strategies(register):
    from .crfr import CRFRPMasking, CRFRRMasking
    from .fasking import FaskingIMasking
    from .proportional import FRPMasking
    from .uniform import RandomMasking

    register("random", RandomMasking, description="MAE: K patches uniformly at random")
    register("frp", FRPMasking, description="FRP: every facial region masked at the same ratio")
    register("crfr_r", CRFRRMasking,
             description="CRFR-R: cover one random facial region per batch, random patches elsewhere")
    register("crfr_p", CRFRPMasking,
             description="CRFR-P (FSFM): cover one facial region per batch, the others proportionally")
    register("fasking_i", FaskingIMasking,
             description="Fasking-I: MARLIN's face-parts-first masking on images")
