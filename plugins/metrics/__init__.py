"""Built-in metrics plugin: one MetricSpec per metric name, through the hook a third party uses.

The functions live in the core (:mod:`fsfm_bench.metrics.binary`, each implemented once); a spec
says how results call one by name (threshold, parameter, fixed arguments), its direction and
table title, and its vectorised bootstrap twin, computed from the same counts
(:mod:`fsfm_bench.metrics.curve`).
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


def _specs():
    from fsfm_bench import metrics as m
    from fsfm_bench.metrics import curve as C
    from fsfm_bench.metrics.spec import MetricSpec

    def hter_counts(tp_t, fp_t, p, n):
        far, frr = C.error_rates_from_counts(tp_t, fp_t, p, n)
        return 0.5 * (far + frr)

    def tpr_curve(tp, fp, fpr, positive="fake"):
        return C.tpr_at_fpr_from_counts(*C.oriented_counts(tp, fp, positive), fpr)

    return [
        MetricSpec("auc", m.auc, True, "AUC", order=0,
                   fast=("curve", lambda tp, fp: C.auc_from_counts(tp, fp))),
        MetricSpec("eer", m.eer, False, "EER", order=1,
                   fast=("curve", lambda tp, fp: C.eer_from_counts(tp, fp)[0])),
        MetricSpec("hter", m.hter, False, "HTER", needs_threshold=True, order=2, fast=("threshold", hter_counts)),
        MetricSpec("ap", m.ap, True, "AP", order=3, fast=("curve", lambda tp, fp: C.ap_from_counts(tp, fp))),
        MetricSpec("acc", m.acc, True, "ACC", needs_threshold=True, order=4,
                   fast=("threshold", C.acc_from_counts)),
        MetricSpec("balanced_acc", m.balanced_acc, True, "Balanced ACC", needs_threshold=True, order=5,
                   fast=("threshold", C.balanced_acc_from_counts)),
        # the same estimator with live as the positive class (score P(real)): FSFM's and the MCIO papers' TPR@FPR
        MetricSpec("tpr_at_fpr_live", m.tpr_at_fpr, True, "TPR@FPR (live positive)", param="fpr", default=0.01,
                   fixed=(("positive", "real"),), order=6, fast=("curve", tpr_curve),
                   description="Largest TPR over ROC points with FPR <= fpr, live as the positive class "
                               "(score P(real); FSFM's and the MCIO papers' TPR@FPR)."),
        MetricSpec("tpr_at_fpr", m.tpr_at_fpr, True, "TPR@FPR (attack positive)", param="fpr", default=0.01,
                   order=7, fast=("curve", tpr_curve)),
    ]


@hookimpl
def register_metrics(register):
    for spec in _specs():
        register(spec.name, spec)
