"""A TFMA metric for multi-class balanced accuracy, so it lives in TFMA's own result format.

TFMA's `BalancedAccuracy` is the binary (TPR + TNR) / 2. This one is recall averaged over the
classes that have eval examples (macro recall), derived from the same multi-class confusion
matrices TFMA's MultiClassConfusionMatrixPlot uses, so it needs no class count at build time.
Use it in an EvalConfig with
`tfma.MetricConfig(class_name="MacroAveragedRecall", module="components.promotion_gate.tfma_metrics")`.
"""
from typing import Dict, Optional

from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as confusion

from components.promotion_gate.gate import recall_by_class

BALANCED_ACCURACY_NAME = "balanced_accuracy"


def macro_recall(matrix: Dict) -> float:
    """Mean recall over the actual classes in a TFMA {MatrixEntryKey: weighted count} matrix."""
    recalls = recall_by_class(
        {(e.actual_class_id, e.predicted_class_id): n for e, n in matrix.items() if e.actual_class_id >= 0}
    )
    return sum(recalls.values()) / len(recalls) if recalls else 0.0


def _macro_averaged_recall(
    name: str = BALANCED_ACCURACY_NAME,
    eval_config: Optional[object] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    computations = confusion.multi_class_confusion_matrices(
        thresholds=[0.0],
        eval_config=eval_config,
        model_name=model_name,
        output_name=output_name,
        example_weighted=example_weighted,
    )
    matrices_key = computations[-1].keys[-1]

    def result(metrics):
        return {key: macro_recall(metrics[matrices_key][0.0])}

    computations.append(metric_types.DerivedMetricComputation(keys=[key], result=result))
    return computations


class MacroAveragedRecall(metric_types.Metric):
    """Balanced accuracy for multi-class models: recall averaged over classes with examples."""

    def __init__(self, name: str = BALANCED_ACCURACY_NAME):
        super().__init__(metric_util.merge_per_key_computations(_macro_averaged_recall), name=name)


metric_types.register_metric(MacroAveragedRecall)
