"""The promotion gate's rules and reasons, on confusion matrices made by hand."""
import pytest

from components.contracts.evaluation import GateMetrics, LeakFree
from components.promotion_gate.gate import decide, decision_record, metrics_from_confusion
from components.promotion_gate.options import GateThresholds

CLASSES = ["cat", "dog", "owl"]


def scored(accuracy, balanced_accuracy):
    """Gate metrics with just the two figures the rules judge."""
    return GateMetrics(accuracy, balanced_accuracy, per_class_recall={}, per_class_precision={}, example_count=0)


def always(predicted, counts):
    """The confusion matrix of a model that answers `predicted` for every image."""
    return {(actual, predicted): n for actual, n in enumerate(counts) if n}


def test_metrics_from_a_confusion_matrix():
    matrix = {(0, 0): 8, (0, 1): 2, (1, 1): 3, (1, 0): 1, (2, 2): 1}
    metrics = metrics_from_confusion(matrix, CLASSES)
    assert metrics.accuracy == pytest.approx(12 / 15)
    assert metrics.per_class_recall == pytest.approx({"cat": 0.8, "dog": 0.75, "owl": 1.0})
    assert metrics.per_class_precision == pytest.approx({"cat": 8 / 9, "dog": 0.6, "owl": 1.0})
    assert metrics.balanced_accuracy == pytest.approx((0.8 + 0.75 + 1.0) / 3)


def test_classes_missing_from_eval_do_not_count_in_balanced_accuracy():
    metrics = metrics_from_confusion({(0, 0): 5, (1, 0): 5}, CLASSES)
    assert metrics.per_class_recall == {"cat": 1.0, "dog": 0.0}
    assert metrics.balanced_accuracy == 0.5


def test_the_majority_class_model_is_not_blessed():
    # An eval split of 44 images, 28 of them 'zero'. Always answering 'zero' scores 63.6%,
    # which a fixed "accuracy >= 0.6" threshold would bless.
    counts = [3, 0, 4, 1, 1, 1, 1, 1, 4, 28]
    names = [f"c{i}" for i in range(10)]
    metrics = metrics_from_confusion(always(9, counts), names)
    blessed, reasons = decide(metrics, None, majority_fraction=28 / 44, num_classes=10)
    assert blessed is False
    assert reasons[0] == "accuracy 0.636 does not beat the majority-class baseline 0.636 + 0.02"
    # Recall 1 for 'zero', 0 for the eight other classes eval has: 1/9.
    assert reasons[1] == "balanced accuracy 0.111 does not beat chance 0.100 + 0.05"


def test_a_model_that_learned_is_blessed_on_the_first_run():
    metrics = scored(0.95, 0.9)
    blessed, reasons = decide(metrics, None, majority_fraction=0.64, num_classes=10)
    assert blessed is True
    assert reasons == [
        "accuracy 0.950 beats the majority-class baseline 0.640 + 0.02",
        "balanced accuracy 0.900 beats chance 0.100 + 0.05",
        "no model has been blessed before: nothing to compare with",
    ]


def test_a_regression_against_the_last_blessed_model_is_rejected():
    candidate = scored(0.93, 0.85)
    baseline = scored(0.95, 0.855)
    blessed, reasons = decide(candidate, baseline, majority_fraction=0.64, num_classes=10)
    assert blessed is False
    assert "accuracy 0.930 against the last blessed model's 0.950: drops by 0.020, more than the 0.01 tolerance" in reasons
    assert "balanced accuracy 0.850 against the last blessed model's 0.855: within the 0.01 tolerance" in reasons


def test_margins_are_configurable():
    metrics = scored(0.70, 0.5)
    assert decide(metrics, None, 0.66, 3)[0] is True
    assert decide(metrics, None, 0.66, 3, GateThresholds(majority_margin=0.05))[0] is False


def test_tfma_loss_matches_the_keras_loss_the_model_is_trained_with():
    """The Evaluator's loss comes from our TFMA metric instead of reloading the Keras model."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.metrics import metric_types

    from components.promotion_gate.tfma_metrics import SparseCategoricalCrossentropy

    labels = np.array([0, 2, 1, 2, 0])
    probabilities = tf.nn.softmax(np.random.default_rng(0).normal(size=(5, 3)) * 3).numpy()
    probabilities[4] = [0.0, 0.5, 0.5]  # a confident mistake: clipped as Keras clips it, not infinite
    weights = np.array([1.0, 2.0, 1.0, 0.5, 1.0])
    eval_config = tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key="label")])
    (computation,) = SparseCategoricalCrossentropy().computations(eval_config=eval_config, example_weighted=True)
    combiner = computation.combiner
    first, second = combiner.create_accumulator(), combiner.create_accumulator()
    for i, (label, prediction, weight) in enumerate(zip(labels, probabilities, weights)):
        inputs = metric_types.StandardMetricInputs(
            labels=np.array([label]), predictions=prediction, example_weights=np.array([weight])
        )
        combiner.add_input(first if i % 2 else second, inputs)
    (loss,) = combiner.extract_output(combiner.merge_accumulators([first, second])).values()
    keras_loss = tf.keras.losses.SparseCategoricalCrossentropy(reduction="sum")(labels, probabilities, weights)
    assert loss == pytest.approx(keras_loss.numpy() / weights.sum(), rel=1e-5)
    assert 3 < loss < 5  # the clipped mistake dominates: -log(1e-7) / 5.5 = 2.9, plus the rest


def test_tfma_macro_recall_matches_the_gates_balanced_accuracy():
    from tensorflow_model_analysis.metrics.multi_class_confusion_matrix_metrics import MatrixEntryKey

    from components.promotion_gate.tfma_metrics import macro_recall

    matrix = {(0, 0): 8, (0, 1): 2, (1, 1): 3, (1, 0): 1, (2, 2): 1}
    tfma_matrix = {MatrixEntryKey(a, p): n for (a, p), n in matrix.items()}
    assert macro_recall(tfma_matrix) == pytest.approx(metrics_from_confusion(matrix, CLASSES).balanced_accuracy)


def test_the_baseline_is_the_latest_blessed_model_other_than_the_candidate():
    from tfx.types import standard_artifacts

    from components.promotion_gate.baseline import latest_blessed_other_than

    def model(artifact_id):
        artifact = standard_artifacts.Model()
        artifact.id = artifact_id
        return artifact

    def blessing(model_id, blessed):
        artifact = standard_artifacts.ModelBlessing()
        artifact.set_int_custom_property("current_model_id", model_id)
        artifact.set_int_custom_property("blessed", int(blessed))
        return artifact

    models = [model(i) for i in (3, 7, 5, 9)]
    blessings = [blessing(3, True), blessing(5, True), blessing(7, False), blessing(9, True)]
    # A new candidate is compared with the last promoted model.
    assert latest_blessed_other_than(11, models, blessings) == (models[3], blessings[3])
    # The cached candidate 9, itself the latest blessed, gets the baseline it had when it was first
    # evaluated: 5 (7 was rejected), not itself.
    assert latest_blessed_other_than(9, models, blessings) == (models[2], blessings[1])
    # An old model back from the cache (a re-run with earlier settings) faces the latest promoted
    # one, so it cannot replace a newer model unchecked.
    assert latest_blessed_other_than(3, models, blessings) == (models[3], blessings[3])
    assert latest_blessed_other_than(3, models[:1], blessings[:1]) is None


def test_leaked_eval_images_are_left_out_of_the_rules_that_judge_the_candidate():
    # 10 eval images; 4 of them are copies of train images the model memorised (all right).
    # On the other 6 it answers 'cat' every time: 60% accuracy overall, 0 / 33% without the leaks.
    everything = {(0, 0): 5.0, (1, 0): 3.0, (1, 1): 2.0}
    leak_free = LeakFree(
        confusion=[[0, 0, 3], [1, 0, 3]],
        majority_class="cat",
        majority_fraction=0.5,
        excluded=["eval/cat/a.png", "eval/cat/b.png", "eval/dog/c.png", "eval/dog/d.png"],
    )
    with_leaks = decision_record(everything, None, CLASSES[:2], "cat", 0.5)
    assert with_leaks.blessed is True and with_leaks.leak_free is None
    judged = decision_record(everything, None, CLASSES[:2], "cat", 0.5, leak_free=leak_free)
    assert judged.blessed is False
    assert judged.reasons[0] == "judged on the 6 eval images not also in train: the 4 that are would overstate accuracy"
    assert judged.reasons[1] == "accuracy 0.500 does not beat the majority-class baseline 0.500 + 0.02"
    assert judged.candidate.accuracy == pytest.approx(0.7)  # the whole split's figures are kept too
    assert judged.leak_free.accuracy == 0.5 and len(judged.leak_free.excluded) == 4
