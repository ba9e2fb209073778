"""Built-in metrics plugin: registers fsfm_bench.metrics' functions in the METRICS registry.

The functions live in the core (:mod:`fsfm_bench.metrics`) so that results can be recomputed
without loading plugins; this plugin makes them visible by name (`fsfm-bench ls metrics`) through
the same hook a third party uses to add its own metric.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"


@hookimpl
def register_metrics(register):
    from fsfm_bench import metrics as m

    register("auc", m.auc)
    register("ap", m.ap)
    register("eer", m.eer)
    register("acc", m.acc)
    register("balanced_acc", m.balanced_acc)
    register("hter", m.hter)
    register("tpr_at_fpr", m.tpr_at_fpr)         # tpr_at_fpr_live is this function with positive="real"
    register("aggregate_videos", m.aggregate_videos)
    register("bootstrap_ci", m.bootstrap_ci)
