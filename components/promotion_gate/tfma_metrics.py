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

`evaluated_models`, `confusion_matrix` and `confusion_at_thresholds` read an Evaluator's result back.
"""
from typing import Callable, Dict, Iterable, Optional, Tuple

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as confusion
from tensorflow_model_analysis.writers import eval_config_writer

from components.metrics import recall_by_class

ACCURACY_METRIC = "sparse_categorical_accuracy"  # TFMA's name of its SparseCategoricalAccuracy
BALANCED_ACCURACY_NAME = "balanced_accuracy"
THRESHOLDS_METRIC = "confusion_matrices_at_confidence_thresholds"
CONFIDENCE_THRESHOLDS = [round(0.1 * i, 1) for i in range(1, 10)]
LOSS_NAME = "loss"
EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as in Keras


def macro_recall(matrix: Dict) -> float:
    """Mean recall over the actual classes in a TFMA {MatrixEntryKey: weighted count} matrix."""
    recalls = recall_by_class(
        {(e.actual_class_id, e.predicted_class_id): n for e, n in matrix.items() if e.actual_class_id >= 0}
    )
    return sum(recalls.values()) / len(recalls) if recalls else 0.0


def _per_key(create: Callable, default_name: str):
    """The TFMA computations function of a metric: `create(key, eval_config, thresholds)` for each
    model and output. TFMA reads the arguments it passes from the function's signature (with
    inspect), so they are spelled out, once, here."""

    def computations(
        name: str = default_name,
        thresholds: Optional[list] = None,
        eval_config: Optional[object] = None,
        model_name: str = "",
        output_name: str = "",
        example_weighted: bool = False,
    ) -> metric_types.MetricComputations:
        key = metric_types.MetricKey(
            name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
        )
        return create(key, eval_config, thresholds)

    return computations


def _from_confusion_matrices(result: Callable, default_name: str, default_thresholds: list, matrices_name: str):
    """The computations function of a metric that is `result(matrices at thresholds)`."""

    def create(key: metric_types.MetricKey, eval_config, thresholds) -> metric_types.MetricComputations:
        matrices = confusion.multi_class_confusion_matrices(
            thresholds=thresholds or default_thresholds,
            name=matrices_name,
            eval_config=eval_config,
            model_name=key.model_name,
            output_name=key.output_name,
            example_weighted=key.example_weighted,
        )
        matrices_key = matrices[-1].keys[-1]
        derived = metric_types.DerivedMetricComputation(keys=[key], result=lambda metrics: {key: result(metrics[matrices_key])})
        return [*matrices, derived]

    return _per_key(create, default_name)


class MacroAveragedRecall(metric_types.Metric):
    """Balanced accuracy for multi-class models: recall averaged over classes with examples."""

    def __init__(self, name: str = BALANCED_ACCURACY_NAME):
        computations = _from_confusion_matrices(
            lambda matrices: macro_recall(matrices[0.0]),
            BALANCED_ACCURACY_NAME,
            [0.0],
            confusion.MULTI_CLASS_CONFUSION_MATRICES,  # shared with the confusion plot: computed once
        )
        super().__init__(metric_util.merge_per_key_computations(computations), name=name)


metric_types.register_metric(MacroAveragedRecall)


class ConfusionMatricesAtThresholds(metric_types.Metric):
    """TFMA's MultiClassConfusionMatrixAtThresholds, which cannot be used beside its confusion
    plot: both name their matrices alike, and TFMA then computes only one threshold list. An image
    whose top probability is below a threshold counts as unanswered (predicted class -1)."""

    def __init__(self, thresholds: Optional[list] = None, name: str = THRESHOLDS_METRIC):
        computations = _from_confusion_matrices(
            lambda matrices: matrices,
            THRESHOLDS_METRIC,
            CONFIDENCE_THRESHOLDS,
            # Not TFMA's own name for the matrices: TFMA keeps one computation per name, and the
            # confusion plot's (and MacroAveragedRecall's) are at threshold 0 only.
            "_confusion_matrices_at_confidence_thresholds",
        )
        super().__init__(metric_util.merge_per_key_computations(computations), thresholds=thresholds, name=name)


metric_types.register_metric(ConfusionMatricesAtThresholds)


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


def _crossentropy(key: metric_types.MetricKey, eval_config, thresholds) -> metric_types.MetricComputations:
    del thresholds  # a loss has none
    return [metric_types.MetricComputation(keys=[key], preprocessors=None, combiner=_CrossEntropyCombiner(key, eval_config))]


class SparseCategoricalCrossentropy(metric_types.Metric):
    """The loss `sparse_categorical_crossentropy` computes, from integer labels and probabilities."""

    def __init__(self, name: str = LOSS_NAME):
        super().__init__(metric_util.merge_per_key_computations(_per_key(_crossentropy, LOSS_NAME)), name=name)


metric_types.register_metric(SparseCategoricalCrossentropy)


# Where TFMA's result holds the confusion matrices: the plot at threshold 0 (one matrix), and the
# metric THRESHOLDS_METRIC at the confidence thresholds.
_CONFUSION_PLOT = "multiClassConfusionMatrixAtThresholds"


def evaluated_models(evaluation_uri: str) -> Tuple[str, Optional[str]]:
    """(candidate model name, baseline model name or None) as the Evaluator named them."""
    eval_config = eval_config_writer.load_eval_run(evaluation_uri)[0]
    candidate = next(spec.name for spec in eval_config.model_specs if not spec.is_baseline)
    baseline = next((spec.name for spec in eval_config.model_specs if spec.is_baseline), None)
    return candidate, baseline


def _matrix(entries) -> Dict[Tuple[int, int], float]:
    # Proto JSON leaves out zero values: a missing class id is class 0.
    return {
        (e.get("actualClassId", 0), e.get("predictedClassId", 0)): e.get("numWeightedExamples", 0.0) for e in entries
    }


def _overall(evaluation_uri: str, model_name: Optional[str], plots: bool) -> Dict:
    import tensorflow_model_analysis as tfma

    result = tfma.load_eval_result(evaluation_uri, model_name=model_name or None)
    for slice_key, values in result.plots if plots else result.slicing_metrics:
        if slice_key == ():
            return values[""][""]
    raise ValueError(f"The evaluation in {evaluation_uri} has no overall slice.")


def confusion_matrix(evaluation_uri: str, model_name: str) -> Dict[Tuple[int, int], float]:
    """{(actual class, predicted class): examples} over the whole eval split, from TFMA's plot."""
    plot = _overall(evaluation_uri, model_name, plots=True)[_CONFUSION_PLOT]
    return _matrix(plot["matrices"][0].get("entries", []))


def confusion_at_thresholds(evaluation_uri: str, model_name: str) -> Dict[float, Dict[Tuple[int, int], float]]:
    """{threshold: {(actual, predicted or -1 when no class reaches it): examples}}, from TFMA's
    matrices at confidence thresholds (ConfusionMatricesAtThresholds); empty for an evaluation
    made without that metric."""
    metric = _overall(evaluation_uri, model_name, plots=False).get(THRESHOLDS_METRIC)
    if not metric:
        return {}
    return {
        float(m.get("threshold", 0.0)): _matrix(m.get("entries", []))
        for m in metric[_CONFUSION_PLOT]["matrices"]
    }
