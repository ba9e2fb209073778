"""Built-in synthetic forgeries; each returns ``(image, mask)`` with an exact mask.

Registered objects are classes: ``cls(**options)`` gives a callable
``f(image, landmarks, rng, donor=None, donor_landmarks=None) -> (fake uint8 HxWx3, mask uint8 HxW)``
with ``mask`` 255 exactly where pixels may differ from ``image`` (pixels outside it are unchanged,
bit for bit) and everything drawn from the numpy ``Generator`` ``rng`` (deterministic).
``landmarks`` are 68 iBUG points in the image's pixel coordinates; ``needs_donor`` says whether a
second identity is required (face_swap); ``preserves_geometry`` (default True) whether the real
crop's parsing map still fits the fake (prepare then cites it in the fake's manifest row).
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_forgeries(register):
    from .attacks import PrintAttack, ReplayAttack
    from .blend import FaceSwap, RegionEdit, SelfBlended

    register("sbi", SelfBlended)
    register("face_swap", FaceSwap)
    register("region", RegionEdit)
    register("print_attack", PrintAttack)
    register("replay_attack", ReplayAttack)
