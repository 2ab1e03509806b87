"""Training-curve plots as PNG files: accuracy and loss (train against validation, with the
majority-class accuracy drawn as a line) and the learning rate per epoch."""
from __future__ import annotations

import io
import os
from typing import Dict, List, Optional, Sequence

import matplotlib
import tensorflow as tf

matplotlib.use("Agg")  # files only; no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CURVES_FILE = "training_curves.png"
LEARNING_RATE_FILE = "learning_rate.png"


def _save(fig, path: str) -> str:
    """Through tf.io.gfile, so a model_run folder on gs:// works too."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())
    return path


def plot_training(
    history: Dict[str, Sequence[float]],
    out_dir: str,
    best_epoch: int,
    majority_fraction: Optional[float] = None,
    fine_tune_epoch: Optional[int] = None,
) -> List[str]:
    """Writes the plots into `out_dir` and returns their paths; `fine_tune_epoch` marks where a
    pretrained backbone's second phase (every layer trained) began."""
    epochs = list(range(1, len(history["loss"]) + 1))
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    acc_ax.plot(epochs, history["accuracy"], label="train", color="#0969da")
    acc_ax.plot(epochs, history["val_accuracy"], label="validation", color="#bf3989")
    if history.get("val_balanced_accuracy"):
        acc_ax.plot(
            epochs, history["val_balanced_accuracy"], label="validation, balanced", color="#8250df", linestyle="-."
        )
    if majority_fraction is not None:
        acc_ax.axhline(majority_fraction, color="#cf222e", linestyle="--", label=f"always the largest class ({majority_fraction:.1%})")
    acc_ax.axvline(best_epoch, color="#59636e", linestyle=":", label=f"best epoch ({best_epoch})")
    if fine_tune_epoch:
        for ax in (acc_ax, loss_ax):
            ax.axvline(fine_tune_epoch - 0.5, color="#9a6700", linestyle="-", alpha=0.6)
        acc_ax.plot([], [], color="#9a6700", label=f"fine-tuning from epoch {fine_tune_epoch}")
    acc_ax.set(title="Accuracy", xlabel="epoch", ylim=(0, 1.02))
    acc_ax.legend(loc="lower right", fontsize=8)
    loss_ax.plot(epochs, history["loss"], label="train", color="#0969da")
    loss_ax.plot(epochs, history["val_loss"], label="validation", color="#bf3989")
    loss_ax.axvline(best_epoch, color="#59636e", linestyle=":")
    loss_ax.set(title="Loss", xlabel="epoch")
    loss_ax.legend(loc="upper right", fontsize=8)
    for ax in (acc_ax, loss_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    fig.tight_layout()
    paths = [_save(fig, os.path.join(out_dir, CURVES_FILE))]
    if history.get("learning_rate"):
        fig, ax = plt.subplots(figsize=(5.5, 3), dpi=100)
        ax.plot(epochs, history["learning_rate"], marker="o", markersize=3, color="#1a7f37")
        ax.set(title="Learning rate", xlabel="epoch", yscale="log")
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        paths.append(_save(fig, os.path.join(out_dir, LEARNING_RATE_FILE)))
    return paths
