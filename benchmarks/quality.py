"""Figure 4: Fashion-MNIST test quality: from scratch, on imbalanced labels, and tuned.

    .venv/bin/python benchmarks/quality.py                     # all three figures (about 90 min on 2 cores)
    .venv/bin/python benchmarks/quality.py --figures 2 --epochs 5

Trains with the Trainer's own `train()`, datasets and tuner in one process, on the 60,000
training images (the last 6,000 held out for validation) and scores the 10,000 test images:

1. balanced: the best from-scratch setting within --budget-minutes of training on 2 cores:
   --scratch-architecture (deeper_cnn: resnet_small does about twice its arithmetic per image, so
   half the epochs in the same time) with horizontal flips (a mirrored garment is the same garment);
2. imbalanced: 'tshirt' made two thirds of the training images (all its 5,400, about 300 of each
   of the other nine classes) and of the validation images (as the pipeline's hash split makes
   eval look like train), the pipeline's defaults otherwise, scored on the balanced test set: each
   imbalance strategy (class weights, oversampling, none) with the epoch kept by each checkpoint
   metric;
3. tuned: the Tuner's random search (its default budget, --tune-trials and --tune-epochs) on the
   imbalanced data, then the best values trained like the default, against the default.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time

import numpy as np

from common import FASHION_CLASSES, emit, load_fashion_mnist, time_budget


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--figures", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="figure 1's training time")
    parser.add_argument("--scratch-architecture", default="deeper_cnn", help="figure 1's architecture")
    parser.add_argument("--epochs", type=int, default=None, help="figures 2 and 3 (default: the pipeline's)")
    parser.add_argument("--strategies", nargs="+", default=["class_weights", "oversample", "none"], help="figure 2")
    parser.add_argument("--metrics", nargs="+", default=["balanced_accuracy", "accuracy"], help="figure 2")
    parser.add_argument("--tune-trials", type=int, default=None)
    parser.add_argument("--tune-epochs", type=int, default=None)
    args = parser.parse_args(argv)

    from pipeline import console

    console.quiet_libraries(verbose=False)
    import tensorflow as tf

    from components.imbalance import balanced_class_weights
    from components.metrics import balanced_accuracy
    from components.trainer.inputs import oversample, oversampling_rates
    from components.trainer.options import TrainingOptions, TuningOptions
    from components.trainer.train import train
    from components.trainer.tuning import apply
    from components.tuner.tuner import TrainingTuner

    x_train, y_train = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test")
    x_train, x_test = x_train[..., None], x_test[..., None]  # uint8 pixels, which the models scale themselves
    x_fit, y_fit, x_val, y_val = x_train[:-6000], y_train[:-6000], x_train[-6000:], y_train[-6000:]
    defaults = TrainingOptions()
    tuning_defaults = TuningOptions()
    epochs = args.epochs or defaults.epochs

    class Data:
        """What the Trainer's TrainingData gives train() and the tuner, over arrays in memory."""

        def __init__(self, x, y, val_x, val_y):
            self.x, self.y = x, y.astype("int64")
            self.val = tf.data.Dataset.from_tensor_slices((val_x, val_y.astype("int64"))).batch(512)
            self.input_shape, self.num_classes = x.shape[1:], len(FASHION_CLASSES)
            counts = np.bincount(y, minlength=self.num_classes).tolist()
            self.counts = counts

        def datasets(self, batch_size, strategy, seed=0):
            ds = tf.data.Dataset.from_tensor_slices((self.x, self.y)).shuffle(len(self.y), seed=seed)
            weights = None
            if strategy == "oversample":
                ds = oversample(ds, oversampling_rates(self.counts), len(self.y), int(np.prod(self.input_shape)), seed)
            elif strategy == "class_weights":
                weights = dict(enumerate(balanced_class_weights(self.counts)))
            return ds.batch(batch_size).prefetch(2), self.val, weights

    def scores(model) -> dict:
        predicted = np.argmax(model.predict(x_test, batch_size=512, verbose=0), axis=1)
        return {
            "accuracy": round(float((predicted == y_test).mean()), 4),
            "balanced_accuracy": round(balanced_accuracy(y_test, predicted), 4),
        }

    def run(data, options, strategy, callbacks=()) -> dict:
        train_ds, val_ds, weights = data.datasets(options.batch_size, strategy)
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # Keras' epoch lines; stdout carries the JSON only
            result = train(
                train_ds, val_ds, data.input_shape, data.num_classes, tempfile.mkdtemp(prefix="quality-"), options,
                class_weight=weights, callbacks=callbacks,
            )  # fmt: skip
        return {
            **scores(result.model),
            "epochs_run": len(result.history["loss"]),
            "best_epoch": result.best_epoch,
            "checkpoint_metric": result.checkpoint_metric,
            "train_seconds": round(time.perf_counter() - start, 1),
        }

    figures = {}
    if 1 in args.figures:
        options = dataclasses.replace(
            defaults, architecture=args.scratch_architecture, flip="horizontal", epochs=100, checkpoint_metric="accuracy"
        )
        figures["balanced_training"] = {
            "setting": {"architecture": args.scratch_architecture, "flip": "horizontal", "budget_minutes": args.budget_minutes},
            **run(Data(x_fit, y_fit, x_val, y_val), options, "none", [time_budget(60 * args.budget_minutes)]),
        }
    if {2, 3} & set(args.figures):
        rng = np.random.RandomState(0)

        def two_thirds_tshirt(y):
            majority = np.flatnonzero(y == 0)
            others = rng.choice(np.flatnonzero(y != 0), size=len(majority) // 2, replace=False)
            return rng.permutation(np.concatenate([majority, others]))

        keep, keep_val = two_thirds_tshirt(y_fit), two_thirds_tshirt(y_val)
        imbalanced = Data(x_fit[keep], y_fit[keep], x_val[keep_val], y_val[keep_val])
        base = dataclasses.replace(defaults, epochs=epochs, checkpoint_metric="balanced_accuracy")
        figure = {
            "train_counts": dict(zip(FASHION_CLASSES, imbalanced.counts)),
            "majority_share": round(imbalanced.counts[0] / sum(imbalanced.counts), 3),
            "validation_images": int(len(keep_val)),
            "default": {"strategy": defaults.imbalance_strategy, "checkpoint_metric": "balanced_accuracy"},
        }
        if 2 in args.figures:
            for strategy in args.strategies:
                for metric in args.metrics:
                    options = dataclasses.replace(base, checkpoint_metric=metric)
                    figure[f"{strategy}/{metric}"] = run(imbalanced, options, strategy)
        if 3 in args.figures:
            tuning = dataclasses.replace(
                tuning_defaults,
                tune_trials=args.tune_trials or tuning_defaults.tune_trials,
                tune_epochs=args.tune_epochs or tuning_defaults.tune_epochs,
            )
            started = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):
                tuner = TrainingTuner(imbalanced, base, tuning, tempfile.mkdtemp(prefix="tuning-"))
                tuner.search()
            search_seconds = round(time.perf_counter() - started, 1)
            best = tuner.get_best_hyperparameters()[0].values
            options = apply(base, best)
            default_key = f"{defaults.imbalance_strategy}/balanced_accuracy"
            figure["tuned"] = {
                "budget": {"trials": tuning.tune_trials, "epochs_per_trial": tuning.tune_epochs, "search_seconds": search_seconds},
                "trials": [trial.to_json() for trial in tuner.trials_table()],
                "best_values": best,
                "tuned_model": run(imbalanced, options, options.imbalance_strategy),
                "default_model": figure.get(default_key) or run(imbalanced, base, defaults.imbalance_strategy),
            }
        figures["imbalanced_training"] = figure
    emit(
        {"figure": "quality: Fashion-MNIST test set (10,000 images)", "epochs": epochs, **figures},
        "the Trainer's train() in one process on CPU, Adam, augmentation on; 54,000 train / 6,000 validation / "
        "10,000 test; imbalanced: 8,100 train",
        sys.argv,
    )


if __name__ == "__main__":
    main()
