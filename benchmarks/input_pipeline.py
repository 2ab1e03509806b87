"""Figure 1: images per second through the Trainer's own input path against in-memory tensors.

    .venv/bin/python benchmarks/input_pipeline.py                # 10,000 Fashion-MNIST images
    .venv/bin/python benchmarks/input_pipeline.py --images 2000 --epochs 4

Runs the data steps (ExampleGen, StatisticsGen, Transform) once, then trains the same model
(`simple_cnn`, augmentation on, batch 32) twice in this process: fed by `make_dataset` (TFXIO over
the transformed examples, with its cache, shuffle, batch and prefetch), and fed from the same
images held as in-memory tensors (`from_tensor_slices`, shuffle, batch, prefetch). Throughput is
measured over the epochs after the first (the first fills the cache). Target: ratio >= 0.95.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import CACHE, emit, load_fashion_mnist, run_data_steps, write_image_folders

class EpochTimes:
    def __init__(self):
        import tensorflow as tf

        class _Callback(tf.keras.callbacks.Callback):
            def on_epoch_begin(cb, epoch, logs=None):
                cb.start = time.perf_counter()

            def on_epoch_end(cb, epoch, logs=None):
                self.seconds.append(time.perf_counter() - cb.start)

        self.seconds = []
        self.callback = _Callback()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    from pipeline import console

    console.quiet_libraries(verbose=False)
    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft
    from tfx.components.trainer.fn_args_utils import DataAccessor
    from tfx.components.util import tfxio_utils
    from tfx.types import artifact_utils, standard_artifacts

    from components import features
    from components.trainer.model import build_model
    from components.trainer.train import make_dataset
    from pipeline import dag

    images, labels = load_fashion_mnist("train")
    data_dir = CACHE / f"fashion-{args.images}"
    write_image_folders(data_dir, images[: args.images], labels[: args.images])
    _, record = run_data_steps(data_dir, Path(tempfile.mkdtemp(prefix="input-")))
    examples_proto = record.artifact(dag.TRANSFORM, "transformed_examples")
    transform_uri = record.artifact(dag.TRANSFORM, "transform_graph").uri
    examples = standard_artifacts.Examples()
    examples.uri = examples_proto.uri
    examples.split_names = examples_proto.properties["split_names"].string_value
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], []),
        record_batch_factory=None,
        data_view_decode_fn=None,
    )
    schema = tft.TFTransformOutput(transform_uri).transformed_metadata.schema
    files = [f"{artifact_utils.get_split_uri([examples], 'train')}/*"]
    pipeline_dataset = make_dataset(files, accessor, schema, args.batch_size, shuffle=True)

    # The same images as tensors in memory.
    xs, ys = [], []
    for x, y in make_dataset(files, accessor, schema, args.batch_size, shuffle=False):
        xs.append(x.numpy())
        ys.append(y.numpy())
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    memory_dataset = (
        tf.data.Dataset.from_tensor_slices((x_all, y_all))
        .shuffle(10_000, seed=0, reshuffle_each_iteration=True)
        .batch(args.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )

    def throughput(dataset) -> dict:
        tf.keras.utils.set_random_seed(0)
        model = build_model("simple_cnn", x_all.shape[1:], 10, augment=True)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        times = EpochTimes()
        model.fit(dataset, epochs=args.epochs, callbacks=[times.callback], verbose=0)
        steady = times.seconds[1:]
        return {
            "first_epoch_s": round(times.seconds[0], 2),
            "later_epochs_s": [round(s, 2) for s in steady],
            "images_per_s": round(len(x_all) * len(steady) / sum(steady), 1),
        }

    # Alternate the order so neither side always runs on a warmer machine.
    memory_first = throughput(memory_dataset)
    pipeline_run = throughput(pipeline_dataset)
    memory_second = throughput(memory_dataset)
    memory_rate = (memory_first["images_per_s"] + memory_second["images_per_s"]) / 2
    emit(
        {
            "figure": "input pipeline: Trainer input path vs in-memory tensors",
            "train_images": int(len(x_all)),
            "image_shape": list(x_all.shape[1:]),
            "batch_size": args.batch_size,
            "epochs": args.epochs,
            "pipeline_input": pipeline_run,
            "in_memory": [memory_first, memory_second],
            "ratio": round(pipeline_run["images_per_s"] / memory_rate, 3),
            "target": ">= 0.95",
            "feature": features.TRANSFORMED_IMAGE_KEY,
        },
        "one process, CPU; simple_cnn with augmentation, Adam; in-memory run before and after the "
        "pipeline-input run, averaged; throughput over epochs 2..N",
        sys.argv,
    )


if __name__ == "__main__":
    main()
