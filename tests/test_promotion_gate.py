"""The promotion gate's rules and reasons, on confusion matrices made by hand."""
import pytest

from components.contracts.evaluation import GateMetrics, LeakFree, PairedCounts
from components.promotion_gate import intervals
from components.promotion_gate.gate import decide, decision_record, metrics_from_confusion, paired_rules
from components.promotion_gate.options import GateThresholds

CLASSES = ["cat", "dog", "owl"]


def scored(accuracy, balanced_accuracy, accuracy_interval=None, balanced_accuracy_interval=None):
    """Gate metrics with just the figures the rules judge (without intervals: a gate before them)."""
    return GateMetrics(
        accuracy, balanced_accuracy, per_class_recall={}, per_class_precision={}, example_count=0,
        confidence=0.95 if accuracy_interval else None, accuracy_interval=accuracy_interval,
        balanced_accuracy_interval=balanced_accuracy_interval, per_class_recall_interval=None,
        per_class_precision_interval=None,
    )  # fmt: skip


def two_classes(n, right, majority_share, first_class_right):
    """A two-class eval split of `n` images, the first class `majority_share` of them, `right`
    answered right, `first_class_right` of them in the first class."""
    first = round(majority_share * n)
    second_right = right - first_class_right
    return {(0, 0): first_class_right, (0, 1): first - first_class_right, (1, 1): second_right, (1, 0): n - first - second_right}


def paired(*per_class):
    """PairedCounts from per-class [both right, only the candidate, only the baseline, both wrong]."""
    return PairedCounts(baseline_uri="/models/7", per_class=[list(row) for row in per_class])


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
    assert reasons[0] == (
        "accuracy 0.636 (95% interval 0.478 to 0.776): the lower bound 0.478 does not beat the majority-class "
        "baseline 0.636 + 0.02"
    )
    # Recall 1 for 'zero', 0 for the eight other classes eval has: 1/9.
    assert reasons[1].startswith("balanced accuracy 0.111 (95% interval ")
    assert reasons[1].endswith("does not beat chance 0.100 + 0.05")


def test_a_model_that_learned_is_blessed_on_the_first_run():
    metrics = scored(0.95, 0.9, [0.9, 0.98], [0.84, 0.95])
    blessed, reasons = decide(metrics, None, majority_fraction=0.64, num_classes=10)
    assert blessed is True
    assert reasons == [
        "accuracy 0.950 (95% interval 0.900 to 0.980): the lower bound 0.900 beats the majority-class baseline 0.640 + 0.02",
        "balanced accuracy 0.900 (95% interval 0.840 to 0.950): the lower bound 0.840 beats chance 0.100 + 0.05",
        "no model has been blessed before: nothing to compare with",
    ]


def test_a_point_estimate_that_beats_the_baseline_by_less_than_the_eval_split_can_show_is_not_blessed():
    # 494 eval images, 64.6% of them one class: accuracy 0.682 beats 0.646 + 0.02 by its point
    # estimate, but by under two standard errors: the interval reaches down to 0.639.
    matrix = two_classes(494, 337, 0.646, 230)
    judged = decision_record(matrix, None, ["cat", "dog"], "cat", 319 / 494)
    assert judged.candidate.accuracy == pytest.approx(0.682, abs=5e-4) and judged.candidate.accuracy > 319 / 494 + 0.02
    assert judged.blessed is False
    assert judged.reasons[0] == (
        "accuracy 0.682 (95% interval 0.639 to 0.723): the lower bound 0.639 does not beat the majority-class "
        "baseline 0.646 + 0.02"
    )
    # The same accuracy on 20 times the images is shown, and blessed.
    many = {cell: 20 * n for cell, n in matrix.items()}
    assert decision_record(many, None, ["cat", "dog"], "cat", 319 / 494).blessed is True


def test_a_lucky_model_on_a_small_eval_split_is_not_blessed():
    # 45 eval images, 28 of one class. 34 right (75.6%) beats 62.2% + 2% by a wide point margin,
    # but on 45 images the interval reaches down to 0.62.
    matrix = two_classes(45, 34, 28 / 45, 25)
    decision = decision_record(matrix, None, ["cat", "dog"], "cat", 28 / 45)
    assert decision.candidate.accuracy > 28 / 45 + 0.1
    low, high = decision.candidate.accuracy_interval
    assert low < 28 / 45 + 0.02 < decision.candidate.accuracy < high
    assert decision.blessed is False
    # 43 of 45 is blessed: the interval's lower bound clears the bar.
    assert decision_record(two_classes(45, 43, 28 / 45, 27), None, ["cat", "dog"], "cat", 28 / 45).blessed is True


def test_intervals_cover_the_figures_and_narrow_with_more_images():
    small = metrics_from_confusion({(0, 0): 8, (0, 1): 2, (1, 1): 3, (1, 0): 1, (2, 2): 1}, CLASSES)
    large = metrics_from_confusion({(0, 0): 800, (0, 1): 200, (1, 1): 300, (1, 0): 100, (2, 2): 100}, CLASSES)
    for metrics in (small, large):
        assert metrics.accuracy_interval[0] < metrics.accuracy < metrics.accuracy_interval[1]
        assert metrics.balanced_accuracy_interval[0] <= metrics.balanced_accuracy <= metrics.balanced_accuracy_interval[1]
        for name, (low, high) in metrics.per_class_recall_interval.items():
            assert low <= metrics.per_class_recall[name] <= high
        assert set(metrics.per_class_precision_interval) == set(metrics.per_class_precision)
    width = lambda interval: interval[1] - interval[0]  # noqa: E731
    assert width(large.accuracy_interval) < width(small.accuracy_interval) / 5
    assert width(large.balanced_accuracy_interval) < width(small.balanced_accuracy_interval) / 5
    # A class of one image, right: its recall's interval is wide, ending at 1 (the exact bound at k = n).
    assert small.per_class_recall_interval["owl"][1] == 1.0 and small.per_class_recall_interval["owl"][0] < 0.5
    # On many images the interval is the normal approximation's: p +- 1.96 standard errors.
    p, n = large.accuracy, large.example_count
    assert width(large.accuracy_interval) == pytest.approx(2 * 1.96 * (p * (1 - p) / n) ** 0.5, rel=0.02)
    # The same counts always give the same interval (the balanced accuracy's is sampled, seeded).
    again = metrics_from_confusion({(0, 0): 8, (0, 1): 2, (1, 1): 3, (1, 0): 1, (2, 2): 1}, CLASSES)
    assert again.balanced_accuracy_interval == small.balanced_accuracy_interval


def test_a_regression_against_the_last_blessed_model_is_rejected_by_points_without_paired_counts():
    candidate = scored(0.93, 0.85)
    baseline = scored(0.95, 0.855)
    blessed, reasons = decide(candidate, baseline, majority_fraction=0.64, num_classes=10)
    assert blessed is False
    assert "accuracy 0.930 against the last blessed model's 0.950: drops by 0.020, more than the 0.01 tolerance" in reasons
    assert "balanced accuracy 0.850 against the last blessed model's 0.855: within the 0.01 tolerance" in reasons


def test_mcnemar_p_values_are_the_exact_binomial_ones():
    # 4 images only the candidate gets right, 12 only the baseline: P(X <= 4 | 16, 1/2) = 0.0384.
    result = intervals.paired_accuracy([[80, 4, 12, 4]])
    assert result.p_value == pytest.approx(0.0384, abs=1e-4)
    assert (result.candidate, result.baseline) == (0.84, 0.92)
    assert intervals.paired_accuracy([[10, 0, 0, 2]]).p_value == 1.0  # identical answers
    # With one class the weighted sign test is McNemar's (sampled: within its Monte Carlo error).
    assert intervals.paired_balanced_accuracy([[80, 4, 12, 4]]).p_value == pytest.approx(0.0384, abs=0.005)


def test_a_drop_that_chance_explains_is_not_a_regression_and_a_real_one_is():
    classes = ["cat", "dog"]
    # Both models right on 180 of 200; the candidate alone on 6, the baseline alone on 10: a drop
    # of 0.02 in accuracy, over the 0.01 tolerance, but two equal models differ so often (p = 0.23).
    by_chance = paired([90, 3, 5, 2], [90, 3, 5, 2])
    rules = paired_rules(by_chance)
    assert [r.regression for r in rules] == [False, False]
    assert rules[0].p_value == pytest.approx(0.2272, abs=1e-4) and rules[0].baseline - rules[0].candidate == pytest.approx(0.02)
    # A real margin: the baseline alone right on 30 images, the candidate alone on 5 (p < 0.0001).
    real = paired([80, 2, 15, 3], [80, 3, 15, 2])
    rules = paired_rules(real)
    assert [r.regression for r in rules] == [True, True] and rules[0].p_value < 1e-4
    candidate = scored(0.85, 0.85, [0.8, 0.9], [0.8, 0.9])
    baseline = scored(0.975, 0.975, [0.95, 0.99], [0.95, 0.99])
    blessed, reasons = decide(candidate, baseline, 0.5, 2, GateThresholds(), None, rules)
    assert blessed is False
    assert reasons[2] == (
        "accuracy 0.825 against the last blessed model's 0.950 on the same 0 images (5 right only by the candidate, "
        "30 only by the last blessed model): drops by 0.125, more than the 0.01 tolerance, and chance does not "
        f"explain it: p = {rules[0].p_value:.3g} (McNemar's exact test), under 0.05"
    )
    # A better candidate is never a regression, whatever the counts.
    better = paired_rules(paired([80, 15, 2, 3], [80, 15, 3, 2]))
    assert [r.regression for r in better] == [False, False] and better[0].p_value > 0.99
    # Through the record: the reasons name the images and the test, and the rules are kept.
    matrix = {(0, 0): 93, (0, 1): 7, (1, 1): 93, (1, 0): 7}
    decision = decision_record(matrix, scored(0.95, 0.95), classes, "cat", 0.5, paired=by_chance)
    assert decision.blessed is True and len(decision.paired) == 2
    assert "on the same 200 images (6 right only by the candidate, 10 only by the last blessed model)" in decision.reasons[2]
    assert "not a regression the eval split shows" in decision.reasons[2]


def test_balanced_accuracy_weighs_a_small_class_as_much_as_a_large_one():
    # The candidate loses 8 of the 10 images of a rare class the baseline got right and gains 8 of
    # 190 common ones: accuracy is level (McNemar says nothing), balanced accuracy drops by 0.38.
    rules = {r.metric: r for r in paired_rules(paired([170, 10, 2, 8], [2, 0, 8, 0]))}
    assert rules["accuracy"].regression is False and rules["accuracy"].p_value > 0.5
    assert rules["balanced_accuracy"].baseline - rules["balanced_accuracy"].candidate > 0.3
    assert rules["balanced_accuracy"].regression is True and rules["balanced_accuracy"].p_value < 0.05


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
    from components.promotion_gate.baseline import latest_blessed_other_than
    from helpers import blessing_artifact as blessing, model_artifact as model

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
    # 100 eval images; 40 of them are copies of train images the model memorised (all right).
    # On the other 60 it answers 'cat' every time: 70% accuracy overall, 50% without the leaks.
    everything = {(0, 0): 50.0, (1, 0): 30.0, (1, 1): 20.0}
    leak_free = LeakFree(
        confusion=[[0, 0, 30], [1, 0, 30]],
        majority_class="cat",
        majority_fraction=0.5,
        excluded=[f"eval/{name}/{i}.png" for name in ("cat", "dog") for i in range(20)],
    )
    with_leaks = decision_record(everything, None, CLASSES[:2], "cat", 0.5)
    assert with_leaks.blessed is True and with_leaks.leak_free is None
    judged = decision_record(everything, None, CLASSES[:2], "cat", 0.5, leak_free=leak_free)
    assert judged.blessed is False
    assert judged.reasons[0] == "judged on the 60 eval images not also in train: the 40 that are would overstate accuracy"
    assert judged.reasons[1] == (
        "accuracy 0.500 (95% interval 0.368 to 0.632): the lower bound 0.368 does not beat the majority-class "
        "baseline 0.500 + 0.02"
    )
    assert judged.candidate.accuracy == pytest.approx(0.7)  # the whole split's figures are kept too
    assert judged.leak_free.accuracy == 0.5 and len(judged.leak_free.excluded) == 40
    assert judged.leak_free.accuracy_interval[0] < 0.5 < judged.candidate.accuracy_interval[0]


def test_the_report_shows_intervals_beside_the_figures_and_the_paired_comparison():
    from components.promotion_gate.report import evaluation_section

    matrix = {(0, 0): 93, (0, 1): 7, (1, 1): 80, (1, 0): 20}
    baseline = metrics_from_confusion({(0, 0): 97, (0, 1): 3, (1, 1): 95, (1, 0): 5}, CLASSES[:2])
    decision = decision_record(matrix, baseline, CLASSES[:2], "cat", 0.5, paired=paired([90, 3, 4, 3], [75, 5, 20, 0]))
    page = evaluation_section(decision, CLASSES[:2])
    low, high = decision.candidate.accuracy_interval
    assert f"{decision.candidate.accuracy:.3f} ({low:.3f} to {high:.3f})" in page  # the interval beside the figure
    assert "recall (95% interval)" in page and "Against the last blessed model, on the same images" in page
    assert decision.blessed is False and f"{decision.paired[0].p_value:.3g}" in page and "McNemar&#x27;s exact test" in page
