"""Classify images with a pushed model.

    python pipeline/predict.py IMAGE [IMAGE ...]              # the latest model in outputs/serving
    python pipeline/predict.py --model outputs/serving/1795496095 --json cat.png dog.jpg
    python pipeline/predict.py --explain cat.png                # + explanations/cat.heatmap.png
    python pipeline/predict.py --tflite cat.png                 # the latest edge model (TF Lite)

Images go to the model as they are (encoded PNG, JPEG, GIF or BMP bytes): the Transform graph
inside the model decodes and resizes them exactly as in training. With --explain, the model's
`serving_explain` signature also gives a Grad-CAM heatmap for the predicted class, written as a
PNG over the image as the model saw it (red: where the answer came from).

With --tflite, the TF Lite model the pipeline published for a served version runs instead
(int8 when it was published, else float; --tflite-variant picks). A TF Lite model has no decode
step, so the images are decoded and resized here, with the Transform graph's own functions, to
the input its input_spec.json states.
"""
from __future__ import annotations

import io
import json
import os
import sys
from typing import List, Optional

from pipeline import console
from pipeline.cli import command_parser
from pipeline.config import RuntimeConfig


def latest_model(serving_dir: str) -> Optional[str]:
    """The newest version folder (TF Serving's choice: the highest number)."""
    from components.serving_pusher.executor import version_dirs

    versions = version_dirs(serving_dir)
    return os.path.join(serving_dir, versions[-1]) if versions else None


def served_model(model: Optional[str], serving_dir: str) -> Optional[str]:
    """`model`, or the latest version under `serving_dir`, when it is a SavedModel; else None
    after printing the one-line error."""
    import tensorflow as tf

    model_dir = model or latest_model(serving_dir)
    if not model_dir or not tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        print(f"error: no served model in {model or serving_dir}: run the pipeline first, or name one with --model.", file=sys.stderr)
        return None
    return model_dir


def main(argv: Optional[List[str]] = None) -> int:
    parser = command_parser("predict.py", __doc__, epilog="")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--model", help="a served model folder (default: the latest under --output-dir/serving)")
    parser.add_argument("--output-dir", default=RuntimeConfig().output_dir, help="(default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument(
        "--explain", action="store_true", help="also write a heatmap PNG per image: where the model looks"
    )
    parser.add_argument(
        "--explain-dir",
        default="explanations",
        help="folder for the heatmaps, made if missing; not the image folder, which a later run would "
        "ingest them from (default: %(default)s)",
    )
    parser.add_argument(
        "--tflite",
        action="store_true",
        help="run the TF Lite model instead: --model may name a .tflite file or an edge version folder "
        "(default: the latest under --output-dir/edge)",
    )
    parser.add_argument(
        "--tflite-variant",
        choices=("int8", "float"),
        help="which TF Lite model of the folder (default: int8 when it was published, else float)",
    )
    args = parser.parse_args(argv)

    console.quiet_libraries(verbose=False)
    if args.tflite:
        if args.explain:
            print("error: --explain needs the SavedModel (TF Lite models have no heatmap): leave out --tflite.", file=sys.stderr)
            return 2
        from pipeline.predict_tflite import predict_tflite

        return predict_tflite(args)
    import tensorflow as tf

    from components import features

    # tf.io.gfile throughout, so the model and the images may be gs:// URIs.
    serving_dir = RuntimeConfig(output_dir=args.output_dir).serving_dir
    model_dir = served_model(args.model, serving_dir)
    if model_dir is None:
        return 2
    missing = [path for path in args.images if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path)]
    if missing:
        print(f"error: no such image file: {', '.join(missing)}", file=sys.stderr)
        return 2

    model = tf.saved_model.load(model_dir)
    signature = features.EXPLAIN_SIGNATURE if args.explain else features.IMAGE_SIGNATURE
    if signature not in model.signatures:
        print(
            f"error: the model in {model_dir} has no {signature} signature (it was exported before heatmaps "
            "existed): run the pipeline again to export one, or leave out --explain.",
            file=sys.stderr,
        )
        return 2
    images = []
    for path in args.images:
        with tf.io.gfile.GFile(path, "rb") as f:
            images.append(f.read())
    try:
        outputs = model.signatures[signature](image_bytes=tf.constant(images))
    except tf.errors.InvalidArgumentError as error:
        print(f"error: an image could not be decoded ({error.message.splitlines()[0]}).", file=sys.stderr)
        return 1
    names = [n.decode() for n in outputs["class_name"].numpy()]
    probabilities = outputs[features.PROBABILITIES_OUTPUT].numpy()
    indices = outputs["class_index"].numpy()
    heatmaps = write_heatmaps(outputs, args.images, args.explain_dir) if args.explain else [None] * len(images)
    for path, name, index, probs, heatmap in zip(args.images, names, indices, probabilities, heatmaps):
        if args.json:
            line = {"image": path, "class": name, "class_index": int(index), "probability": float(probs[index])}
            print(json.dumps({**line, **({"heatmap": heatmap} if heatmap else {})}))
        else:
            print(f"{path}: {name} ({probs[index]:.1%})" + (f"; heatmap {heatmap}" if heatmap else ""))
    return 0


HEATMAP_SIZE = 256  # pixels, the longer side of a written heatmap


def write_heatmaps(outputs, image_paths: List[str], out_dir: str) -> List[str]:
    """One PNG per image in `out_dir`: <image name>.heatmap.png, numbered when two names clash."""
    import tensorflow as tf

    from components import features
    from components.reporting.images import overlay

    tf.io.gfile.makedirs(out_dir)
    written: List[str] = []
    for path, pixels, heatmap in zip(
        image_paths, outputs[features.PIXELS_OUTPUT].numpy(), outputs[features.HEATMAP_OUTPUT].numpy()
    ):
        stem = os.path.splitext(os.path.basename(path))[0]
        target, n = os.path.join(out_dir, f"{stem}.heatmap.png"), 1
        while target in written:
            n += 1
            target = os.path.join(out_dir, f"{stem}-{n}.heatmap.png")
        buffer = io.BytesIO()
        overlay(pixels, heatmap, max(HEATMAP_SIZE, pixels.shape[0])).save(buffer, format="PNG")
        with tf.io.gfile.GFile(target, "wb") as f:
            f.write(buffer.getvalue())
        written.append(target)
    return written


if __name__ == "__main__":
    sys.exit(main())
