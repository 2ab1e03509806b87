"""The bundled backbone: its cost per image, and what it buys against training from scratch.

    .venv/bin/python benchmarks/backbone.py --speed                 # 96, 160, 224 px, each in its own process
    .venv/bin/python benchmarks/backbone.py --quality               # Fashion-MNIST at 96 px, 6,000 images
    .venv/bin/python benchmarks/backbone.py --quality --budget-minutes 8
    .venv/bin/python benchmarks/backbone.py --quality --architectures simple_cnn --scratch-epochs 100
    .venv/bin/python benchmarks/backbone.py --whole-run             # the pipeline with no flags, 300 px
    .venv/bin/python benchmarks/backbone.py --whole-run --run-flags "--architecture simple_cnn --image-size 96"

--speed: EfficientNet-Lite0 as the Trainer builds it (`build_model`, a 10-class head), at each size
in a fresh process: phase 1's cost, one pass of the frozen backbone computing the pooled features
(`phases.pooled_features`), and phase 2's, an epoch of every layer trained with augmentation;
milliseconds per image over 512 images in batches of 32 after a warm-up batch, and peak memory.

--quality: Fashion-MNIST upscaled to 96 px RGB (bicubic): 6,000 training images (600 a class), the
next 1,000 for validation, the 10,000 test images scored. The Trainer's `train()` with its defaults
(`--architecture auto`, which takes the bundled backbone at 96 px, in two phases) against
simple_cnn, deeper_cnn and resnet_small, each within the same time budget (--budget-minutes of
training; the epoch that would not finish in it is not started) and the pipeline's 30 epochs
(--scratch-epochs gives the from-scratch networks more, to fill the budget; early stopping still
applies). Each also reports its test accuracy with flip test-time augmentation (the mean of the
scores of an image and its mirror image: twice the prediction time).

--whole-run: `run_local.py` with no flags (or --run-flags) on a folder of photo-sized grayscale
images: 1,900 Fashion-MNIST 'tshirt' and 'shirt' images (the pair most alike, 69% 'tshirt'),
upscaled to 300 px; wall time, each step's seconds, what auto chose, and the eval figures.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import REPO_ROOT, emit, load_fashion_mnist, peak_rss_mib, run_pipeline_process, time_budget

SIZES = (96, 160, 224)


def speed(size: int, images: int = 512, batch: int = 32) -> dict:
    from pipeline import console

    console.quiet_libraries(verbose=False)
    import tensorflow as tf

    from components.trainer.model import POOLED_LAYER, build_model
    from components.trainer.phases import compile_for, pooled_features

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (images + batch, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, images + batch)
    model = build_model("efficientnet_lite0", (size, size, 3), 10, augment=True)
    features = tf.keras.Model(model.inputs, model.get_layer(POOLED_LAYER).output)
    warm = tf.data.Dataset.from_tensor_slices((pixels[:batch], labels[:batch])).batch(batch)
    data = tf.data.Dataset.from_tensor_slices((pixels[batch:], labels[batch:])).batch(batch)
    pooled_features(warm, features, 1 << 32)
    started = time.perf_counter()
    pooled_features(data, features, 1 << 32)
    phase_1 = (time.perf_counter() - started) / images
    compile_for(model, 1e-4, 10)
    model.fit(warm, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    phase_2 = (time.perf_counter() - started) / images
    return {
        "image_size": size,
        "phase_1_ms_per_image": round(1000 * phase_1, 2),
        "phase_2_ms_per_image": round(1000 * phase_2, 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }


def upscaled(images: np.ndarray, size: int) -> np.ndarray:
    """Grayscale 28 px -> RGB `size` px (bicubic), uint8."""
    from PIL import Image

    out = np.empty((len(images), size, size, 3), np.uint8)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image).resize((size, size), Image.BICUBIC).convert("RGB"))
    return out


def quality(budget_minutes: float, size: int, per_class: int, architectures, scratch_epochs: int) -> dict:
    from pipeline import console

    console.quiet_libraries(verbose=False)
    import tensorflow as tf

    from components.metrics import balanced_accuracy
    from components.trainer.options import TrainingOptions
    from components.trainer.train import train

    x, y = load_fashion_mnist("train")
    chosen = np.concatenate([np.flatnonzero(y == c)[: per_class + per_class // 6] for c in range(10)])
    rng = np.random.default_rng(0)
    chosen = rng.permutation(chosen)
    fit_idx = np.concatenate([chosen[y[chosen] == c][:per_class] for c in range(10)])
    val_idx = np.setdiff1d(chosen, fit_idx)[: 100 * 10]
    x_fit, y_fit, x_val, y_val = upscaled(x[fit_idx], size), y[fit_idx], upscaled(x[val_idx], size), y[val_idx]
    test_x, test_y = load_fashion_mnist("test")
    test_x = upscaled(test_x, size)

    results = {}
    for architecture in architectures:
        train_ds = tf.data.Dataset.from_tensor_slices((x_fit, y_fit.astype("int64"))).shuffle(len(y_fit), seed=0).batch(32)
        val_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val.astype("int64"))).batch(64)
        options = dataclasses.replace(TrainingOptions(), architecture=architecture, checkpoint_metric="accuracy")
        if not options.pretrained and architecture != "auto":
            options = dataclasses.replace(options, epochs=scratch_epochs)
        budget = time_budget(60 * budget_minutes)
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            result = train(
                train_ds, val_ds, (size, size, 3), 10, tempfile.mkdtemp(prefix="backbone-"), options, callbacks=[budget]
            )
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        scores = result.model.predict(test_x, batch_size=128, verbose=0)
        predict_seconds = time.perf_counter() - started
        predicted = np.argmax(scores, axis=1)
        # Flip test-time augmentation: the mean of the scores of the image and its mirror image.
        mirrored = result.model.predict(test_x[:, :, ::-1], batch_size=128, verbose=0)
        flip_tta = np.argmax(scores + mirrored, axis=1)
        results[architecture] = {
            "test_accuracy": round(float((predicted == test_y).mean()), 4),
            "test_balanced_accuracy": round(balanced_accuracy(test_y, predicted), 4),
            "epochs_run": len(result.history["loss"]),
            "best_epoch": result.best_epoch,
            "fine_tune_epoch": result.fine_tune_epoch,
            "train_seconds": round(seconds, 1),
            "test_accuracy_flip_tta": round(float((flip_tta == test_y).mean()), 4),
            "predict_ms_per_image": round(1000 * predict_seconds / len(test_y), 2),
        }
        print(architecture, json.dumps(results[architecture]), file=sys.stderr, flush=True)
    return {"image_size": size, "train_images": int(len(y_fit)), "validation_images": int(len(y_val)),
            "budget_minutes": budget_minutes, "scratch_epochs": scratch_epochs, "results": results}  # fmt: skip


def whole_run(images: int, majority_share: float, size: int, flags) -> dict:
    """`run_local.py` with no flags but the folders (and `flags`), timed, on two look-alike classes."""
    from common import CACHE, write_image_folders

    x, y = load_fashion_mnist("train")
    minority = int(images * (1 - majority_share))
    chosen = np.concatenate([np.flatnonzero(y == 0)[: images - minority], np.flatnonzero(y == 6)[: minority + 1]])
    data_dir = CACHE / f"tshirt-shirt-{images}-{size}px"
    counts = write_image_folders(data_dir, x[chosen], y[chosen], majority_share=majority_share, size=size)
    out = Path(tempfile.mkdtemp(prefix="backbone-run-"))
    seconds, summary, steps = run_pipeline_process(data_dir, out, flags)
    training, evaluation = summary["training"], summary["evaluation"]
    return {
        "images": {name: n for name, n in counts.items() if n}, "size": size, "grayscale": True, "flags": list(flags),
        "wall_seconds": round(seconds, 1),
        "step_seconds": steps,
        "architecture": training["architecture"], "image_size": training["image_size"],
        "epochs_run": training.get("epochs_run"), "best_epoch": training.get("best_epoch"),
        "fine_tune_epoch": training["fine_tune_epoch"],
        "eval_accuracy": evaluation["accuracy"], "eval_balanced_accuracy": evaluation["balanced_accuracy"],
        "eval_majority_share": evaluation["majority_fraction"], "blessed": summary["blessed"],
        "output_dir": str(out),
    }  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--whole-run", action="store_true", help="run_local.py with no flags on 300 px grayscale 'tshirt' against 'shirt'")
    parser.add_argument("--run-images", type=int, default=1900)
    parser.add_argument("--run-majority", type=float, default=0.69)
    parser.add_argument("--run-flags", default="", help="more run_local.py flags for --whole-run, in one string")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # --speed at one size, in this process
    parser.add_argument("--budget-minutes", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--per-class", type=int, default=600)
    parser.add_argument("--architectures", nargs="+", default=["auto", "simple_cnn", "deeper_cnn", "resnet_small"])
    parser.add_argument("--scratch-epochs", type=int, default=30, help="--epochs of the from-scratch networks (the budget still stops them)")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(speed(args.one)))
        return
    figures = {}
    if args.speed:
        runs = []
        for size in SIZES:
            done = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, cwd=REPO_ROOT)
            if done.returncode:
                sys.exit(f"{size} px failed:\n{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
        figures["speed"] = runs
    if args.quality:
        figures["quality"] = quality(args.budget_minutes, args.size, args.per_class, args.architectures, args.scratch_epochs)
    if args.whole_run:
        figures["whole_run"] = whole_run(args.run_images, args.run_majority, 300, args.run_flags.split())
    how = "speed, quality: the Trainer's own model builder and train(), on the CPU; whole_run: run_local.py timed as a whole"
    emit(figures, how, sys.argv)


if __name__ == "__main__":
    main()
