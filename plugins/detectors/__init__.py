"""Built-in face detectors: dlib HOG (default, as FSFM), MTCNN (optional extra), OpenCV Haar.

Each registered object is a class; ``cls(**options)`` builds a detector whose
``__call__(rgb uint8 HxWx3) -> list[Detection]`` returns every face found (prepare keeps the
largest). Heavy imports happen in the constructors.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_face_detectors(register):
    from .dlib_hog import DlibHOG
    from .haar import HaarCascade
    from .mtcnn import MTCNNDetector

    register("dlib_hog", DlibHOG)
    register("mtcnn", MTCNNDetector)
    register("haar", HaarCascade)
