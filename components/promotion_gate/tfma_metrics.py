"""TFMA metrics the model's own compile does not give in TFMA's result format, or gives slowly.

`MacroAveragedRecall` is multi-class balanced accuracy. TFMA's `BalancedAccuracy` is the binary
(TPR + TNR) / 2; this one is recall averaged over the classes that have eval examples (macro
recall), derived from the same multi-class confusion matrices TFMA's MultiClassConfusionMatrixPlot
uses, so it needs no class count at build time.

`SparseCategoricalCrossentropy` is the eval loss from integer labels and class probabilities.
TFMA's `CategoricalCrossEntropy` wants one-hot labels, and TFMA's default metrics (the model's
compiled loss and metrics) load the Keras model once more in every combiner: 5.5 of the
Evaluator's 10 s on the sample.

Use them in an EvalConfig with
`tfma.MetricConfig(class_name="MacroAveragedRecall", module="components.promotion_gate.tfma_metrics")`.
"""
from typing import Dict, Iterable, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as confusion

from components.promotion_gate.gate import recall_by_class

BALANCED_ACCURACY_NAME = "balanced_accuracy"
LOSS_NAME = "loss"
EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as in Keras


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


class _CrossEntropyCombiner(beam.CombineFn):
    """Mean of -log(probability of the true class) over the examples, example weights applied."""

    def __init__(self, key: metric_types.MetricKey, eval_config: Optional[object]):
        self._key = key
        self._eval_config = eval_config

    def create_accumulator(self):
        return [0.0, 0.0]  # sum of weighted losses, sum of weights

    def add_input(self, accumulator, element: metric_types.StandardMetricInputs):
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._key.model_name,
            output_name=self._key.output_name,
            example_weighted=self._key.example_weighted,
            flatten=False,
        ):
            probabilities = np.clip(np.asarray(prediction, dtype=np.float64).reshape(-1), EPSILON, 1 - EPSILON)
            weight = metric_util.safe_to_scalar(weight)
            accumulator[0] -= weight * np.log(probabilities[int(metric_util.safe_to_scalar(label))])
            accumulator[1] += weight
        return accumulator

    def merge_accumulators(self, accumulators: Iterable):
        total = [0.0, 0.0]
        for loss, weight in accumulators:
            total[0] += loss
            total[1] += weight
        return total

    def extract_output(self, accumulator):
        loss, weight = accumulator
        return {self._key: loss / weight if weight else float("nan")}


def _sparse_categorical_crossentropy(
    name: str = LOSS_NAME,
    eval_config: Optional[object] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    return [
        metric_types.MetricComputation(
            keys=[key], preprocessors=None, combiner=_CrossEntropyCombiner(key, eval_config)
        )
    ]


class SparseCategoricalCrossentropy(metric_types.Metric):
    """The loss `sparse_categorical_crossentropy` computes, from integer labels and probabilities."""

    def __init__(self, name: str = LOSS_NAME):
        super().__init__(metric_util.merge_per_key_computations(_sparse_categorical_crossentropy), name=name)


metric_types.register_metric(SparseCategoricalCrossentropy)
