"""The training-dynamics analysis on made-up histories: every finding, and the user's own curves."""
import math

import numpy as np

from components.trainer.dynamics import analyze_history


def codes(history, **kwargs):
    return [f.code for f in analyze_history(history, **kwargs)]


def the_users_history():
    """Validation accuracy 0.6663 for 30 epochs while training accuracy swung between 0.59 and 0.87."""
    rng = np.random.default_rng(0)
    accuracy = [0.59, 0.87] + list(rng.uniform(0.59, 0.87, 28))
    loss = [1.2 - (a - 0.59) for a in accuracy]  # loss follows the swings of accuracy
    return {
        "accuracy": accuracy,
        "val_accuracy": [0.6663] * 30,
        "loss": loss,
        "val_loss": [0.64 + 0.001 * (i % 3) for i in range(30)],
    }


def healthy_history(epochs=20):
    accuracy = [0.5 + 0.45 * (1 - math.exp(-i / 4)) for i in range(epochs)]
    return {
        "accuracy": accuracy,
        "val_accuracy": [a - 0.02 for a in accuracy],
        "loss": [1.5 * math.exp(-i / 5) + 0.1 for i in range(epochs)],
        "val_loss": [1.5 * math.exp(-i / 5) + 0.15 for i in range(epochs)],
    }


def test_healthy_training_has_no_findings():
    assert codes(healthy_history(), majority_fraction=0.3) == []


def test_the_users_curves_are_named_collapse_flat_validation_and_instability():
    findings = analyze_history(the_users_history(), majority_fraction=0.6663)
    assert [f.code for f in findings] == ["majority_class_collapse", "flat_validation", "unstable_training"]
    collapse, flat, unstable = findings
    assert "66.6%, the share of the largest class" in collapse.message and "30 of 30 epochs" in collapse.message
    assert collapse.evidence["epochs_near_majority"] == list(range(1, 31))
    assert flat.evidence["val_accuracy_range"] == [0.6663, 0.6663]
    assert flat.evidence["accuracy_range"] == [0.59, 0.87]
    assert "swung" in unstable.message
    assert all(f.suggestion for f in findings)


def test_predictions_piling_onto_one_class_is_a_collapse_even_off_the_majority_share():
    history = healthy_history()
    findings = analyze_history(history, majority_fraction=0.3, prediction_shares={"zero": 0.97, "one": 0.03})
    assert [f.code for f in findings] == ["majority_class_collapse"]
    assert "97% of eval predictions are 'zero'" in findings[0].message


def test_overfitting_is_rising_validation_loss_with_a_growing_gap():
    epochs = 20
    history = {
        "accuracy": [0.6 + 0.02 * i for i in range(epochs)],
        "val_accuracy": [min(0.6 + 0.02 * i, 0.75) for i in range(epochs)],
        "loss": [1.0 - 0.045 * i for i in range(epochs)],
        "val_loss": [1.0 - 0.05 * i if i <= 8 else 0.6 + 0.05 * (i - 8) for i in range(epochs)],
    }
    findings = analyze_history(history, majority_fraction=0.3)
    assert [f.code for f in findings] == ["overfitting"]
    assert findings[0].evidence["best_val_loss_epoch"] == 9


def test_a_model_that_learns_nothing_is_underfitting():
    # What --learning-rate 0 looks like: loss and accuracy stay put.
    history = {
        "accuracy": [0.101, 0.099, 0.1, 0.102],
        "val_accuracy": [0.12, 0.12, 0.12, 0.12],
        "loss": [2.303, 2.302, 2.304, 2.303],
        "val_loss": [2.301] * 4,
    }
    findings = analyze_history(history, majority_fraction=0.64)
    assert [f.code for f in findings] == ["underfitting"]
    assert "learned almost nothing" in findings[0].message


def test_dropout_noise_without_learning_is_not_flat_validation():
    # --learning-rate 0 with dropout: training accuracy wiggles, the loss does not fall.
    history = {
        "accuracy": [0.09, 0.15, 0.10, 0.14, 0.09],
        "val_accuracy": [0.068] * 5,
        "loss": [2.3009, 2.3010, 2.3009, 2.3011, 2.3009],
        "val_loss": [2.30] * 5,
    }
    assert codes(history, majority_fraction=0.636) == ["underfitting"]


def test_training_accuracy_stuck_at_the_majority_share_is_underfitting():
    history = {
        "accuracy": [0.62, 0.65, 0.66, 0.66, 0.66],
        "val_accuracy": [0.5, 0.55, 0.6, 0.62, 0.63],
        "loss": [1.4, 1.2, 1.1, 1.05, 1.0],
        "val_loss": [1.5, 1.3, 1.2, 1.15, 1.1],
    }
    assert codes(history, majority_fraction=0.66) == ["underfitting"]


def test_diverging_loss_is_unstable():
    history = healthy_history(6)
    history["loss"] = [1.0, 0.8, 1.2, 2.0, float("nan"), float("nan")]
    findings = analyze_history(history, majority_fraction=0.3)
    unstable = [f for f in findings if f.code == "unstable_training"]
    assert unstable and unstable[0].evidence["epoch"] == 5 and "diverged" in unstable[0].message


def test_findings_serialise_with_code_message_evidence_and_advice():
    finding = analyze_history(the_users_history(), majority_fraction=0.6663)[0].to_json()
    assert set(finding) == {"code", "message", "evidence", "try"}
