"""Edge models: TF Lite sizes, agreement and accuracy against the SavedModel for two
architectures, and latency per image on this CPU.

    .venv/bin/python benchmarks/edge.py                       # about 15 minutes on 2 cores
    .venv/bin/python benchmarks/edge.py --architectures simple_cnn --images 3000 --epochs 3
    .venv/bin/python benchmarks/edge.py --architectures efficientnet_lite0 --images 3000 --image-size 96 --epochs 6

For each architecture, the pipeline runs on --images Fashion-MNIST images (class folders, at
--image-size: 32 px, or upscaled, bicubic) to a push; its EdgeExport step writes the float and int8 models and checks them on the eval split
(run_summary.json's `edge`). Latency is one image at a time, the median over --latency-images
images (taken across the class folders): the SavedModel through its serving_images signature (encoded PNG in: the decode and
resize are inside it), and each TF Lite model on the decoded pixels with one interpreter thread,
plus what that decode costs when done apart (the step a device app does itself).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from common import CACHE, REPO_ROOT, emit, fashion_images, write_image_folders


def median_ms(function, inputs) -> float:
    function(inputs[0])  # warm up
    times = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def args_step(data_dir, n: int) -> int:
    """Every k-th file, so that the n images come from every class folder."""
    return len(list(data_dir.glob("*/*.png"))) // n


def latency(summary: dict, data_dir, n: int) -> dict:
    import numpy as np
    import tensorflow as tf

    from components import features
    from components.edge_export.convert import TFLiteClassifier
    from components.transform.preprocessing import decode_image, to_pixels

    paths = sorted(str(p) for p in data_dir.glob("*/*.png"))[:: max(1, args_step(data_dir, n))][:n]
    encoded = [open(p, "rb").read() for p in paths]
    size, channels = summary["edge"]["input_spec"]["shape"][1], summary["edge"]["input_spec"]["shape"][3]
    decode = tf.function(lambda b: to_pixels(decode_image(b, size, channels)))
    pixels = [decode(tf.constant(b)).numpy()[np.newaxis] for b in encoded]
    served = tf.saved_model.load(summary["pushed_model"]).signatures[features.IMAGE_SIGNATURE]
    result = {
        "saved_model_ms": median_ms(lambda b: served(image_bytes=tf.constant([b])), encoded),
        "decode_and_resize_ms": median_ms(lambda b: decode(tf.constant(b)).numpy(), encoded),
    }
    for key in ("tflite_float", "tflite_int8"):
        classifier = TFLiteClassifier(model_path=summary["edge"][key]["path"])
        result[f"{key}_ms"] = median_ms(classifier.probabilities, pixels)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architectures", nargs="+", default=["simple_cnn", "resnet_small"])
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--latency-images", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=32, help="the folder's images, and the model's")
    args = parser.parse_args(argv)
    images, labels = fashion_images(args.images)
    upscaled = args.image_size > 32
    data_dir = CACHE / (f"fashion-{args.images}-{args.image_size}px" if upscaled else f"fashion-{args.images}")
    write_image_folders(data_dir, images, labels, size=args.image_size if upscaled else None)
    results = {}
    for architecture in args.architectures:
        out = CACHE / f"edge-{architecture}-{args.images}-{args.image_size}px"
        command = [sys.executable, str(REPO_ROOT / "pipeline" / "run_local.py"), "--data-dir", str(data_dir),
                   "--output-dir", str(out), "--architecture", architecture, "--epochs", str(args.epochs),
                   "--image-size", str(args.image_size), "--no-cache"]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
        if run.returncode:
            sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
        with open(out / "run_summary.json") as f:
            summary = json.load(f)
        edge = summary["edge"]
        if not edge or not edge["exported"]:
            sys.exit(f"{architecture}: no edge models ({edge and edge['reason']}): the model was not pushed.")
        keys = ("bytes", "agreement", "accuracy", "balanced_accuracy", "published")
        results[architecture] = {
            "eval_images": edge["parity_images"],
            "saved_model": edge["saved_model"],
            **{key: {k: edge[key][k] for k in keys} for key in ("tflite_float", "tflite_int8")},
            "latency_per_image": latency(summary, data_dir, args.latency_images),
        }
        print(f"{architecture}: {json.dumps(results[architecture])}", file=sys.stderr)
    emit(
        {"images": args.images, "image_size": args.image_size, "epochs": args.epochs, "architectures": results},
        "the pipeline's own EdgeExport figures; latency: median of one image at a time on this CPU",
        sys.argv,
    )


if __name__ == "__main__":
    main()
