"""Imbalance-aware training: the balanced-accuracy metric, the metric that keeps an epoch, and
oversampling's class proportions."""
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import balanced_accuracy_score

from components.trainer.inputs import oversample, oversampling_rates
from components.metrics import balanced_accuracy
from components.trainer.metrics import BalancedAccuracy, best_epoch, choose_checkpoint_metric


def _made_up_predictions(seed=0, n=500, classes=4):
    rng = np.random.RandomState(seed)
    labels = rng.choice(classes, size=n, p=[0.7, 0.2, 0.08, 0.02])
    # Right 90% of the time on the largest class, 40% on the others: accuracy flatters it.
    right = rng.rand(n) < np.where(labels == 0, 0.9, 0.4)
    predicted = np.where(right, labels, (labels + 1 + rng.randint(0, classes - 1, n)) % classes)
    probabilities = np.eye(classes)[predicted] * 0.7 + 0.3 / classes
    return labels, predicted, probabilities.astype("float32")


def test_balanced_accuracy_matches_scikit_learn_over_a_whole_epoch_of_batches():
    labels, predicted, probabilities = _made_up_predictions()
    metric = BalancedAccuracy(num_classes=4)
    for start in range(0, len(labels), 64):  # batches, as Keras feeds them; a batch may lack a class
        metric.update_state(labels[start : start + 64], probabilities[start : start + 64])
    expected = balanced_accuracy_score(labels, predicted)
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    assert expected < float((labels == predicted).mean()) - 0.15  # the two really differ here
    assert balanced_accuracy(labels, predicted) == pytest.approx(expected)
    metric.reset_state()
    metric.update_state(labels[:10], probabilities[:10])
    assert float(metric.result()) == pytest.approx(balanced_accuracy_score(labels[:10], predicted[:10]), abs=1e-6)


def test_class_weights_leave_balanced_accuracy_unchanged_and_absent_classes_do_not_count():
    labels, _, probabilities = _made_up_predictions(seed=1)
    plain, weighted = BalancedAccuracy(num_classes=6), BalancedAccuracy(num_classes=6)  # classes 4, 5 absent
    plain.update_state(labels, probabilities)
    weighted.update_state(labels, probabilities, sample_weight=np.array([0.3, 1.5, 4.0, 11.0])[labels])
    assert float(weighted.result()) == pytest.approx(float(plain.result()), abs=1e-6)
    assert float(plain.result()) == pytest.approx(balanced_accuracy_score(labels, probabilities.argmax(1)), abs=1e-6)


def test_the_kept_epoch_follows_the_checkpoint_metric():
    # Epoch 2 gains accuracy by answering the largest class; epoch 4 is the best on every class.
    history = {
        "val_accuracy": [0.70, 0.80, 0.74, 0.76],
        "val_balanced_accuracy": [0.40, 0.30, 0.50, 0.62],
    }
    assert best_epoch(history, "accuracy") == 2
    assert best_epoch(history, "balanced_accuracy") == 4
    assert best_epoch({"val_accuracy": [0.5, 0.7, 0.7]}, "accuracy") == 2  # ties: the first, as Keras saves


def test_the_checkpoint_metric_defaults_to_balanced_accuracy_on_imbalanced_labels_only():
    assert choose_checkpoint_metric(None, imbalanced=True)[0] == "balanced_accuracy"
    assert choose_checkpoint_metric(None, imbalanced=False)[0] == "accuracy"
    assert choose_checkpoint_metric(None, imbalanced=None)[0] == "accuracy"
    metric, reason = choose_checkpoint_metric("accuracy", imbalanced=True)
    assert metric == "accuracy" and reason == "--checkpoint-metric accuracy"
    with pytest.raises(ValueError, match="must be one of"):
        choose_checkpoint_metric("loss", imbalanced=True)


def test_training_keeps_the_epoch_of_the_metric_asked_for(tmp_path):
    from components.trainer.options import TrainingOptions
    from components.trainer.train import train

    rng = np.random.RandomState(0)
    labels = np.array([0] * 90 + [1] * 10, dtype="int64")
    images = (rng.rand(100, 8, 8, 1) * 60 + labels[:, None, None, None] * 120).astype("uint8")
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(20)
    options = TrainingOptions(epochs=3, architecture="simple_cnn", augment=False, checkpoint_metric="balanced_accuracy")
    result = train(data, data, (8, 8, 1), 2, str(tmp_path), options)
    assert result.checkpoint_metric == "balanced_accuracy"
    assert len(result.history["val_balanced_accuracy"]) == result.history["loss"].__len__()
    assert result.best_epoch == best_epoch(result.history, "balanced_accuracy")


def test_oversampling_draws_every_class_equally_and_keeps_the_epoch_length():
    counts = [800, 150, 40, 10]
    labels = np.repeat(np.arange(4), counts)
    rates = oversampling_rates(counts)
    assert rates[0] == pytest.approx(1000 / (4 * 800)) and rates[3] == pytest.approx(1000 / (4 * 10))
    dataset = tf.data.Dataset.from_tensor_slices((np.zeros((1000, 2, 2, 1), "uint8"), labels)).shuffle(1000, seed=0)
    epoch_counts = []
    for _ in range(3):  # each epoch is a new pass, as Keras iterates it
        drawn = np.array([int(label) for _, label in oversample(dataset, rates, images=1000, bytes_per_image=4)])
        assert len(drawn) == 1000  # the same number of steps as without oversampling
        epoch_counts.append(np.bincount(drawn, minlength=4))
    shares = np.sum(epoch_counts, axis=0) / 3000
    assert shares == pytest.approx([0.25] * 4, abs=0.04)
    assert oversampling_rates([5, 0, 5]) == [1.0, 0.0, 1.0]  # a class without images gets none


# The built-in sample's train split (what the pipeline's StatisticsGen counts on it).
SAMPLE_CLASSES = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]
SAMPLE_TRAIN = [7, 9, 6, 9, 9, 9, 9, 9, 6, 150]


@pytest.mark.parametrize(
    "strategy, finding",
    [
        ("none", "--imbalance-strategy none: training does nothing about the imbalance."),
        ("oversample", "Oversampling is on: training batches draw every class with equal probability"),
    ],
)
def test_no_class_weights_with_another_strategy_and_the_trainer_says_what_training_does(strategy, finding):
    from components.contracts.balance import TrainingHints
    from components.trainer.plan import decide_imbalance

    hints = TrainingHints(SAMPLE_CLASSES, 28 / 45, imbalanced=True, train_counts=SAMPLE_TRAIN, recommended_strategy="class_weights")
    decision = decide_imbalance(strategy, hints, tuned=False)
    assert decision.class_weights is None and decision.strategy == strategy
    assert decision.reason.startswith(finding)
    assert decision.reason.endswith(f"(--imbalance-strategy {strategy}; LabelBalance recommends class_weights for these labels.)")


def test_class_weights_are_the_balanced_ones_and_the_trainer_says_how_much_each_class_counts():
    from components.contracts.balance import TrainingHints
    from components.imbalance import balanced_class_weights
    from components.trainer.plan import decide_imbalance

    hints = TrainingHints(SAMPLE_CLASSES, 28 / 45, imbalanced=True, train_counts=SAMPLE_TRAIN, recommended_strategy="class_weights")
    decision = decide_imbalance("class_weights", hints, tuned=True)
    assert decision.class_weights == pytest.approx(dict(zip(SAMPLE_CLASSES, balanced_class_weights(SAMPLE_TRAIN))))
    assert decision.reason.startswith("Class weights are on (balanced): a 'zero' image counts 0.15 in the loss, a 'four' image 3.72.")
    assert "the Tuner's best trial chose it" in decision.reason
    # Hints without train counts (an old LabelBalance result) turn the strategy off, and say so.
    old = decide_imbalance("class_weights", TrainingHints(SAMPLE_CLASSES, 0.6), tuned=False)
    assert old.class_weights is None and old.reason.startswith("No train class counts in the training hints")
