"""Batch prediction: throughput and peak memory of run_batch_predict.py, in-process and with 2
multi-processing workers, at 2,000 and 20,000 images, against predict.py-style inference.

    .venv/bin/python benchmarks/batch_prediction.py                    # about 15 minutes on 2 cores
    .venv/bin/python benchmarks/batch_prediction.py --sizes 500 2000 --model outputs/serving/1795496095

The images are Fashion-MNIST PNGs, one flat folder per size, written once. The model is --model,
or the one a run of the pipeline on the built-in sample pushes (made here once, about a minute):
throughput depends on the model's size, not on whether it knows these classes. Each batch run is
a fresh process and a fresh output dir (nothing from the cache); its peak memory is its largest
process's (GNU time). "predict.py-style" loads the SavedModel in this process and feeds it the
files' bytes 64 at a time through its serving_images signature, as predict.py does.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from common import CACHE, REPO_ROOT, Timer, emit, fashion_images

MULTI_PROCESSING = ("--beam-arg=--direct_running_mode=multi_processing", "--beam-arg=--direct_num_workers=2")


def flat_folder(n: int):
    """n Fashion-MNIST PNGs in one folder, without labels."""
    from PIL import Image

    root = CACHE / f"unlabelled-{n}"
    if not (root / ".complete").exists():
        images, _ = fashion_images(n)
        root.mkdir(parents=True, exist_ok=True)
        for index, pixels in enumerate(images):
            Image.fromarray(pixels).save(root / f"{index:06d}.png")
        (root / ".complete").write_text("")
    return root


def sample_model() -> str:
    output_dir = CACHE / "batch-model"
    serving = output_dir / "serving"
    if not serving.exists() or not os.listdir(serving):
        command = [sys.executable, str(REPO_ROOT / "pipeline" / "run_local.py"), "--output-dir", str(output_dir)]
        subprocess.run(command, check=True, capture_output=True, cwd=REPO_ROOT)
    return str(serving / sorted(os.listdir(serving), key=int)[-1])


def batch_run(images, model: str, out, flags) -> dict:
    """One run_batch_predict.py process: seconds, images/s, its steps' seconds, peak memory."""
    shutil.rmtree(out, ignore_errors=True)
    command = ["/usr/bin/time", "-f", "%M", sys.executable, str(REPO_ROOT / "pipeline" / "run_batch_predict.py"),
               "--images", str(images), "--model", model, "--output-dir", str(out), *flags]  # fmt: skip
    with Timer() as timer:
        result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    from pipeline import run_record

    record = run_record.read_run(run_record.open_store(str(out / "metadata.sqlite")), "batch-prediction")
    with open(out / "batch_summary.json") as f:
        predicted = json.load(f)["predicted"]
    return {
        "predicted": predicted,
        "seconds": round(timer.seconds, 1),
        "images_per_second": round(predicted / timer.seconds, 1),
        "step_seconds": {node: round(run.seconds, 1) for node, run in record.nodes.items() if run.seconds is not None},
        "peak_rss_mib": round(int(result.stderr.strip().splitlines()[-1]) / 1024),
    }


def one_process(images, model: str, batch_size: int = 64) -> dict:
    """predict.py's way, over every file: read the bytes, call serving_images, a batch at a time."""
    import tensorflow as tf

    from components import features

    paths = sorted(str(p) for p in images.glob("*.png"))
    with Timer() as timer:
        signature = tf.saved_model.load(model).signatures[features.IMAGE_SIGNATURE]
        for start in range(0, len(paths), batch_size):
            batch = [open(p, "rb").read() for p in paths[start : start + batch_size]]
            signature(image_bytes=tf.constant(batch))["class_index"].numpy()
    return {"seconds": round(timer.seconds, 1), "images_per_second": round(len(paths) / timer.seconds, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[2000, 20000])
    parser.add_argument("--model", help="a served model folder (default: one trained on the built-in sample)")
    args = parser.parse_args(argv)
    model = args.model or sample_model()
    runs = {}
    for n in args.sizes:
        images = flat_folder(n)
        runs[n] = {
            "in_process": batch_run(images, model, CACHE / "batch-out", ()),
            "multi_processing_2": batch_run(images, model, CACHE / "batch-out", MULTI_PROCESSING),
            "predict_py_style": one_process(images, model),
        }
        print(f"{n} images: {json.dumps(runs[n])}", file=sys.stderr)
    smallest, largest = min(args.sizes), max(args.sizes)
    peak = lambda n, mode: runs[n][mode]["peak_rss_mib"]  # noqa: E731
    emit(
        {
            "model": model,
            "runs": runs,
            "peak_memory_ratio_largest_over_smallest": {
                mode: round(peak(largest, mode) / peak(smallest, mode), 2) for mode in ("in_process", "multi_processing_2")
            },
        },
        "images/s = images predicted / wall seconds of the whole command (start-up included); peak memory of its largest process",
        sys.argv,
    )


if __name__ == "__main__":
    main()
