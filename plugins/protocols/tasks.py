"""The built-in tasks the built-in protocols name: each one's default head, metrics and positive class.

The defaults are what the FSFM paper reports per task (docs/method.md): deepfake and diffusion
detection with AUC, EER, AP and balanced accuracy, face anti-spoofing with AUC, HTER and TPR at 1 %
FPR, an attack as the positive class and the FAS head.
"""
from fsfm_bench.protocols.tasks import TaskSpec

DETECTION_METRICS = ("auc", "eer", "ap", "balanced_acc")

TASKS = (
    TaskSpec("deepfake", adapter="fsfm_head", metrics=DETECTION_METRICS, positive_class="fake",
             description="Deepfake detection: fake (manipulated) faces are the positive class"),
    TaskSpec("anti_spoofing", adapter="fas_head", metrics=("auc", "hter", "tpr_at_fpr@0.01"), positive_class="attack",
             description="Face anti-spoofing: presentation attacks are the positive class"),
    TaskSpec("diffusion", adapter="fsfm_head", metrics=DETECTION_METRICS, positive_class="fake",
             description="Diffusion-forgery detection: diffusion-generated or -edited faces are the positive class"),
    TaskSpec("demo", adapter="fsfm_head", metrics=DETECTION_METRICS, positive_class="fake",
             description="The embedded demo: synthetic forgeries of the bundled faces are the positive class"),
)
