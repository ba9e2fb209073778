"""Built-in face detectors: dlib HOG (default, as FSFM), MTCNN (optional extra), OpenCV Haar, and
``whole_image`` (no detection: for datasets that ship face crops).

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
    from .whole_image import WholeImage

    register("dlib_hog", DlibHOG)
    register("mtcnn", MTCNNDetector)
    register("haar", HaarCascade)
    register("whole_image", WholeImage)          # already-cropped face frames: no re-detection
