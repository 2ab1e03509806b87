"""The plain Keras script the pipeline replaces: image_dataset_from_directory, the same model, fit.

    .venv/bin/python benchmarks/plain_keras.py --data-dir data/sample --epochs 10

Used by overhead.py; prints the validation accuracy of the last epoch.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from components.trainer.model import build_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    train, val = tf.keras.utils.image_dataset_from_directory(
        args.data_dir,
        validation_split=0.2,
        subset="both",
        seed=0,
        image_size=(args.image_size, args.image_size),
        batch_size=args.batch_size,
    )
    classes = len(train.class_names)
    # The models take 8-bit pixels and scale them themselves.
    train = train.map(lambda x, y: (tf.cast(x, tf.uint8), y)).cache().prefetch(tf.data.AUTOTUNE)
    val = val.map(lambda x, y: (tf.cast(x, tf.uint8), y)).cache().prefetch(tf.data.AUTOTUNE)
    model = build_model("simple_cnn", (args.image_size, args.image_size, 3), classes, augment=True)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=0)
    print(f"val_accuracy {history.history['val_accuracy'][-1]:.4f}")


if __name__ == "__main__":
    main()
