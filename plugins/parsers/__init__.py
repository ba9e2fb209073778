"""Built-in face parsers: 11-label LaPa-style maps (0 bg, 1 skin, 2/3 brows, 4/5 eyes, 6 nose,
7 upper lip, 8 inner mouth, 9 lower lip, 10 hair).

- ``dlib68``: maps drawn from dlib's 68-point shape predictor (weights: the optional
  face-recognition-models package, 100 MB, or a .dat path you give);
- ``geometric``: landmark-free; a generic 68-point face template placed in the detection box (fitted
  to five points when the detector gives them) and drawn the same way. Needs no weights: the demo
  and CI use it. It is a stand-in for a parser, not a parser;
- ``auto``: dlib68 when its weights are found here, else geometric (prepare records which ran).

The paper's parser (FACER ``farl/lapa/448``) is not built in: its weights come from GitHub releases
and no registry ships them; a third-party plugin can register it under FACE_PARSERS.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_face_parsers(register):
    from .landmarks import AutoParser, Dlib68Parser, GeometricParser

    register("dlib68", Dlib68Parser)
    register("geometric", GeometricParser)
    register("auto", AutoParser)
