"""Figure 4: Fashion-MNIST test accuracy of the project's models, and the imbalanced variant.

    .venv/bin/python benchmarks/quality.py                       # 10 epochs each (the budget)
    .venv/bin/python benchmarks/quality.py --epochs 3 --models simple_cnn

Trains with the Trainer's own `train()` (best epoch on validation accuracy, early stopping,
learning-rate schedule, augmentation without flips) on the 60,000 training images (the last 6,000
held out for validation) and scores the 10,000 test images. Then the imbalanced variant: 'tshirt'
made two thirds of the training images (all 6,000 of it, 3,000 of the other nine classes), trained
with and without the balanced class weights LabelBalance derives, scored on the balanced test set.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time

import numpy as np

from common import FASHION_CLASSES, emit, load_fashion_mnist


def scores(model, x, y) -> dict:
    predicted = np.argmax(model.predict(x, batch_size=512, verbose=0), axis=1)
    recalls = [float((predicted[y == c] == c).mean()) for c in range(len(FASHION_CLASSES)) if (y == c).any()]
    return {"accuracy": round(float((predicted == y).mean()), 4), "balanced_accuracy": round(float(np.mean(recalls)), 4)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["simple_cnn", "deeper_cnn"])
    parser.add_argument("--skip-imbalanced", action="store_true")
    args = parser.parse_args(argv)

    from pipeline import console

    console.quiet_libraries(verbose=False)
    import tensorflow as tf

    from components.label_balance.balance import balanced_class_weights
    from components.trainer.options import TrainingOptions
    from components.trainer.train import train

    x_train, y_train = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test")
    x_train, x_test = x_train[..., None], x_test[..., None]  # uint8 pixels, which the models scale themselves
    x_fit, y_fit, x_val, y_val = x_train[:-6000], y_train[:-6000], x_train[-6000:], y_train[-6000:]

    def run(architecture, x, y, weights=None) -> dict:
        ds = tf.data.Dataset.from_tensor_slices((x, y.astype("int64"))).shuffle(60_000, seed=0).batch(64).prefetch(2)
        val = tf.data.Dataset.from_tensor_slices((x_val, y_val.astype("int64"))).batch(512)
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # Keras' epoch lines; stdout carries the JSON only
            options = TrainingOptions(
                epochs=args.epochs, learning_rate=1e-3, early_stopping_patience=max(3, args.epochs // 3),
                architecture=architecture, augment=True,
            )  # fmt: skip
            result = train(ds, val, x.shape[1:], 10, tempfile.mkdtemp(prefix="quality-"), options, class_weight=weights)
        return {
            **scores(result.model, x_test, y_test),
            "epochs_run": len(result.history["loss"]),
            "best_epoch": result.best_epoch,
            "train_seconds": round(time.perf_counter() - start, 1),
        }

    balanced = {architecture: run(architecture, x_fit, y_fit) for architecture in args.models}
    imbalanced = None
    if not args.skip_imbalanced:
        rng = np.random.RandomState(0)
        majority = np.flatnonzero(y_fit == 0)
        others = rng.choice(np.flatnonzero(y_fit != 0), size=len(majority) // 2, replace=False)
        keep = rng.permutation(np.concatenate([majority, others]))
        counts = np.bincount(y_fit[keep], minlength=10)
        weights = dict(enumerate(balanced_class_weights(counts.tolist())))
        imbalanced = {
            "train_counts": dict(zip(FASHION_CLASSES, counts.tolist())),
            "majority_share": round(float(counts[0] / counts.sum()), 3),
            "without_class_weights": run(args.models[0], x_fit[keep], y_fit[keep]),
            "with_class_weights": run(args.models[0], x_fit[keep], y_fit[keep], weights),
        }
    emit(
        {
            "figure": "quality: Fashion-MNIST test set (10,000 images)",
            "budget_epochs": args.epochs,
            "balanced_training": balanced,
            "imbalanced_training": imbalanced,
            "reference": "see benchmarks/README.md for published Keras figures of comparable models",
        },
        "the Trainer's train() in one process on CPU, batch 64, Adam 1e-3, augmentation on; "
        "54,000 train / 6,000 validation / 10,000 test",
        sys.argv,
    )


if __name__ == "__main__":
    main()
