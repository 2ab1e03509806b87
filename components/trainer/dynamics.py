"""Name what happened in training from the per-epoch history: a pure function, no TensorFlow.

Each finding has a stable `code`, a plain `message`, the `evidence` (epochs and values) and what to
`try`. Codes:

* majority_class_collapse: validation accuracy stays within about a point of the majority class's
  share, or the model's eval predictions pile onto one class: it answers the biggest class.
* flat_validation: validation accuracy does not move while training accuracy does.
* overfitting: training keeps improving while validation loss rises from its best epoch.
* underfitting: training loss barely falls, or training accuracy stays near the majority share.
* unstable_training: the loss becomes NaN or grows, or accuracy swings up and down epoch to epoch.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

from components.contracts.training import Finding

# About a point of accuracy: closer than this to the majority share is "the same as always
# answering the biggest class" on the eval sets this pipeline sees.
COLLAPSE_TOLERANCE = 0.01
# Validation accuracy moving less than this over all epochs counts as flat ...
FLAT_RANGE = 0.01
# ... when training accuracy moved at least this much.
MOVING_RANGE = 0.05
PILED_UP_SHARE = 0.95  # share of eval predictions on one class that counts as a pile-up
OVERFIT_LOSS_RISE = 0.10  # validation loss this much (relative) above its best
OVERFIT_GAP = 0.05  # training accuracy this far above validation accuracy
UNDERFIT_LOSS_DROP = 0.05  # training loss must fall by at least this share of its first value
SWING = 0.05  # an epoch-to-epoch accuracy change this large counts as a swing
SWING_SHARE = 1 / 4  # reversals on this share of epoch-to-epoch moves = oscillating


def _round(values: Sequence[float]) -> List[float]:
    return [round(v, 4) for v in values]


def _majority_collapse(val_acc, majority_fraction, prediction_shares) -> Optional[Finding]:
    if majority_fraction is not None and val_acc:
        near = [i + 1 for i, v in enumerate(val_acc) if abs(v - majority_fraction) <= COLLAPSE_TOLERANCE]
        if len(near) >= max(1, math.ceil(0.8 * len(val_acc))):
            return Finding(
                "majority_class_collapse",
                f"Validation accuracy stayed within {COLLAPSE_TOLERANCE:.0%} of {majority_fraction:.1%}, the share of "
                f"the largest class, in {len(near)} of {len(val_acc)} epochs: the model answers the largest class.",
                {"majority_fraction": round(majority_fraction, 4), "epochs_near_majority": near, "val_accuracy": _round(val_acc)},
                "Use class weights (--class-weights balanced), check the data report, and try another learning rate.",
            )
    if prediction_shares:
        top = max(prediction_shares, key=prediction_shares.get)
        if prediction_shares[top] >= PILED_UP_SHARE:
            return Finding(
                "majority_class_collapse",
                f"{prediction_shares[top]:.0%} of eval predictions are '{top}': the model answers one class.",
                {"prediction_shares": {k: round(v, 4) for k, v in prediction_shares.items()}},
                "Use class weights (--class-weights balanced), check the data report, and try another learning rate.",
            )
    return None


def _loss_drop(loss) -> float:
    return (loss[0] - min(loss)) / max(abs(loss[0]), 1e-8) if loss else 0.0


def _flat_validation(acc, val_acc, loss) -> Optional[Finding]:
    # Only when training learned something (its loss fell): with a dead optimiser, dropout noise
    # alone moves training accuracy, and that is underfitting, not a generalisation problem.
    if len(val_acc) < 3 or _loss_drop(loss) < UNDERFIT_LOSS_DROP:
        return None
    val_range, train_range = max(val_acc) - min(val_acc), max(acc) - min(acc)
    if val_range <= FLAT_RANGE and train_range >= MOVING_RANGE:
        return Finding(
            "flat_validation",
            f"Validation accuracy did not move ({min(val_acc):.4f} to {max(val_acc):.4f}) over {len(val_acc)} epochs "
            f"while training accuracy moved between {min(acc):.4f} and {max(acc):.4f}: what the model learns "
            "does not carry over to unseen images.",
            {"val_accuracy_range": _round([min(val_acc), max(val_acc)]), "accuracy_range": _round([min(acc), max(acc)])},
            "Compare the train and eval label mix in the data report; use class weights; lower the learning rate.",
        )
    return None


def _overfitting(acc, val_acc, loss, val_loss) -> Optional[Finding]:
    if len(val_loss) < 4:
        return None
    best = min(range(len(val_loss)), key=lambda i: val_loss[i])
    rise = (val_loss[-1] - val_loss[best]) / max(val_loss[best], 1e-8)
    gap = acc[-1] - val_acc[-1] if acc and val_acc else 0.0
    if best < len(val_loss) - 1 and rise >= OVERFIT_LOSS_RISE and loss[-1] <= loss[best] and gap >= OVERFIT_GAP:
        return Finding(
            "overfitting",
            f"Validation loss was lowest at epoch {best + 1} ({val_loss[best]:.4f}) and rose to {val_loss[-1]:.4f} "
            f"while training loss kept falling; training accuracy ends {100 * gap:.1f} points above validation "
            "accuracy.",
            {"best_val_loss_epoch": best + 1, "val_loss": _round(val_loss), "final_accuracy_gap": round(gap, 4)},
            "Turn on augmentation, add dropout (--architecture deeper_cnn), gather more images; "
            "the exported model is already the best epoch.",
        )
    return None


def _underfitting(acc, loss, majority_fraction) -> Optional[Finding]:
    if not loss:
        return None
    drop = _loss_drop(loss)
    if drop < UNDERFIT_LOSS_DROP:
        return Finding(
            "underfitting",
            f"Training loss barely fell ({loss[0]:.4f} to {min(loss):.4f}, {drop:.1%}): the model learned almost "
            "nothing from the training images.",
            {"loss_first": round(loss[0], 4), "loss_min": round(min(loss), 4)},
            "Check --learning-rate (0 or far too small stops learning), train longer, or use a larger model.",
        )
    if majority_fraction is not None and acc and max(acc) <= majority_fraction + COLLAPSE_TOLERANCE:
        return Finding(
            "underfitting",
            f"Training accuracy never rose above {max(acc):.1%}, while always answering the largest class "
            f"scores {majority_fraction:.1%}: the model does not even fit the training images.",
            {"max_accuracy": round(max(acc), 4), "majority_fraction": round(majority_fraction, 4)},
            "Train longer, raise the learning rate a little, or use a larger model (--architecture deeper_cnn).",
        )
    return None


def _swings(values: Sequence[float]) -> int:
    """Epochs where the value moves by at least SWING in the opposite direction to the move before."""
    deltas = [b - a for a, b in zip(values, values[1:])]
    return sum(1 for d0, d1 in zip(deltas, deltas[1:]) if abs(d0) >= SWING and abs(d1) >= SWING and d0 * d1 < 0)


def _unstable(acc, loss) -> Optional[Finding]:
    if any(not math.isfinite(v) for v in loss):
        epoch = next(i + 1 for i, v in enumerate(loss) if not math.isfinite(v))
        return Finding(
            "unstable_training",
            f"Training loss became {loss[epoch - 1]} at epoch {epoch}: training diverged.",
            {"epoch": epoch, "loss": [None if not math.isfinite(v) else round(v, 4) for v in loss]},
            "Lower the learning rate (for example by 10x).",
        )
    if len(loss) >= 3 and loss[-1] > 1.5 * loss[0]:
        return Finding(
            "unstable_training",
            f"Training loss grew from {loss[0]:.4f} to {loss[-1]:.4f}: training is diverging.",
            {"loss": _round(loss)},
            "Lower the learning rate (for example by 10x).",
        )
    swings = _swings(acc)
    if len(acc) >= 4 and swings >= max(2, SWING_SHARE * (len(acc) - 2)):
        return Finding(
            "unstable_training",
            f"Training accuracy swung up and down by {SWING:.0%} or more in {swings} of {len(acc)} epochs "
            f"(between {min(acc):.4f} and {max(acc):.4f}): the optimiser overshoots.",
            {"accuracy": _round(acc), "swings": swings},
            "Lower the learning rate; ReduceLROnPlateau lowers it when validation loss stalls.",
        )
    return None


def analyze_history(
    history: Dict[str, Sequence[float]],
    majority_fraction: Optional[float] = None,
    prediction_shares: Optional[Dict[str, float]] = None,
) -> List[Finding]:
    """Findings for a Keras history (`accuracy`, `val_accuracy`, `loss`, `val_loss` per epoch).

    `majority_fraction` is the eval split's largest-class share; `prediction_shares` the share of
    eval predictions per class, when known. An empty list means nothing looked wrong.
    """
    acc = list(history.get("accuracy", []))
    val_acc = list(history.get("val_accuracy", []))
    loss = list(history.get("loss", []))
    val_loss = list(history.get("val_loss", []))
    checks = [
        _majority_collapse(val_acc, majority_fraction, prediction_shares),
        _flat_validation(acc, val_acc, loss),
        _overfitting(acc, val_acc, loss, val_loss),
        _underfitting(acc, loss, majority_fraction),
        _unstable(acc, loss),
    ]
    return [finding for finding in checks if finding is not None]
