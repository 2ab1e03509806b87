"""Classify images with a pushed model.

    python pipeline/predict.py IMAGE [IMAGE ...]              # the latest model in outputs/serving
    python pipeline/predict.py --model outputs/serving/1795496095 --json cat.png dog.jpg

Images go to the model as they are (encoded PNG, JPEG, GIF or BMP bytes): the Transform graph
inside the model decodes and resizes them exactly as in training.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from pipeline import console
from pipeline.config import RuntimeConfig


def latest_model(serving_dir: str) -> Optional[str]:
    """The newest version folder (TF Serving's choice: the highest number)."""
    from components.serving_pusher.executor import version_dirs

    versions = version_dirs(serving_dir)
    return os.path.join(serving_dir, versions[-1]) if versions else None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="predict.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--model", help="a served model folder (default: the latest under --output-dir/serving)")
    parser.add_argument("--output-dir", default=RuntimeConfig().output_dir, help="(default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = parser.parse_args(argv)

    console.quiet_libraries(verbose=False)
    import tensorflow as tf

    from components import features

    # tf.io.gfile throughout, so the model and the images may be gs:// URIs.
    serving_dir = RuntimeConfig(output_dir=args.output_dir).serving_dir
    model_dir = args.model or latest_model(serving_dir)
    if not model_dir or not tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        where = args.model or serving_dir
        print(f"error: no served model in {where}: run the pipeline first, or name one with --model.", file=sys.stderr)
        return 2
    missing = [path for path in args.images if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path)]
    if missing:
        print(f"error: no such image file: {', '.join(missing)}", file=sys.stderr)
        return 2

    model = tf.saved_model.load(model_dir)
    images = []
    for path in args.images:
        with tf.io.gfile.GFile(path, "rb") as f:
            images.append(f.read())
    try:
        outputs = model.signatures[features.IMAGE_SIGNATURE](image_bytes=tf.constant(images))
    except tf.errors.InvalidArgumentError as error:
        print(f"error: an image could not be decoded ({error.message.splitlines()[0]}).", file=sys.stderr)
        return 1
    names = [n.decode() for n in outputs["class_name"].numpy()]
    probabilities = outputs[features.PROBABILITIES_OUTPUT].numpy()
    indices = outputs["class_index"].numpy()
    for path, name, index, probs in zip(args.images, names, indices, probabilities):
        if args.json:
            print(json.dumps({"image": path, "class": name, "class_index": int(index), "probability": float(probs[index])}))
        else:
            print(f"{path}: {name} ({probs[index]:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
