"""predict.py --tflite: classify image files with a TF Lite model the pipeline published."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional, Tuple

from components import artifacts
from pipeline.config import RuntimeConfig

VARIANT_FILES = {"int8": artifacts.TFLITE_INT8_FILE, "float": artifacts.TFLITE_FLOAT_FILE}


def find_tflite(model: Optional[str], output_dir: str, variant: Optional[str]) -> Tuple[Optional[str], str]:
    """(the .tflite file to run, or None; what was looked at, for the error message)."""
    import tensorflow as tf

    from components.serving_pusher.executor import version_dirs

    if model and model.endswith(".tflite"):
        return (model if tf.io.gfile.exists(model) else None), model
    folder = model
    if not folder:
        edge_dir = RuntimeConfig(output_dir=output_dir).edge_dir
        versions = version_dirs(edge_dir)
        if not versions:
            return None, edge_dir
        folder = os.path.join(edge_dir, versions[-1])
    for name in ([VARIANT_FILES[variant]] if variant else [VARIANT_FILES["int8"], VARIANT_FILES["float"]]):
        path = os.path.join(folder, name)
        if tf.io.gfile.exists(path):
            return path, folder
    return None, folder


def predict_tflite(args: argparse.Namespace) -> int:
    import numpy as np
    import tensorflow as tf

    from components.edge_export.convert import TFLiteClassifier
    from components.transform.preprocessing import decode_image, to_pixels

    path, looked_at = find_tflite(args.model, args.output_dir, args.tflite_variant)
    if path is None:
        which = f"{args.tflite_variant} " if args.tflite_variant else ""
        print(
            f"error: no {which}TF Lite model in {looked_at}: run the pipeline to a push (edge models are written "
            "after it), or name a .tflite file or an edge folder with --model.",
            file=sys.stderr,
        )
        return 2
    missing = [p for p in args.images if not tf.io.gfile.exists(p) or tf.io.gfile.isdir(p)]
    if missing:
        print(f"error: no such image file: {', '.join(missing)}", file=sys.stderr)
        return 2
    with tf.io.gfile.GFile(path, "rb") as f:
        classifier = TFLiteClassifier(model_content=f.read())
    height, width, channels = classifier.input_shape
    class_names: List[str] = artifacts.read_json_if_present(os.path.dirname(path), artifacts.CLASS_NAMES_FILE) or []
    pixels = []
    for image_path in args.images:
        with tf.io.gfile.GFile(image_path, "rb") as f:
            try:
                pixels.append(to_pixels(decode_image(tf.constant(f.read()), height, channels)).numpy())
            except tf.errors.InvalidArgumentError as error:
                print(f"error: {image_path} could not be decoded ({error.message.splitlines()[0]}).", file=sys.stderr)
                return 1
    probabilities = classifier.probabilities(np.stack(pixels))
    for image_path, probs in zip(args.images, probabilities):
        index = int(probs.argmax())
        name = class_names[index] if index < len(class_names) else str(index)
        if args.json:
            print(json.dumps({"image": image_path, "class": name, "class_index": index, "probability": float(probs[index]), "model": path}))
        else:
            print(f"{image_path}: {name} ({probs[index]:.1%})")
    return 0
