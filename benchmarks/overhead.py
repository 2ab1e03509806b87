"""Figure 2: the pipeline's end-to-end cost against a plain Keras script, and a cached re-run.

    .venv/bin/python benchmarks/overhead.py                      # the built-in sample, 10 epochs
    .venv/bin/python benchmarks/overhead.py --fashion 10000      # 10,000 Fashion-MNIST images
    .venv/bin/python benchmarks/overhead.py --data-dir DIR --epochs 5

Three processes timed from start to exit, on the same image folders and the same model for the
same number of epochs (early stopping is pushed past the last epoch): `pipeline/run_local.py` on
a fresh output dir, `run_local.py` again with nothing changed (the cache), and
`benchmarks/plain_keras.py` (image_dataset_from_directory, fit). Targets: first run <= 1.5x the
plain script; the cached re-run <= 15% of the first run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CACHE, REPO_ROOT, emit, load_fashion_mnist, write_image_folders


def timed(command) -> tuple:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return round(seconds, 1), result.stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO_ROOT / "data" / "sample"))
    parser.add_argument(
        "--fashion", type=int, metavar="N", help="instead of --data-dir: the first N Fashion-MNIST training images"
    )
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.fashion:
        images, labels = load_fashion_mnist("train")
        args.data_dir = str(CACHE / f"fashion-{args.fashion}")
        write_image_folders(Path(args.data_dir), images[: args.fashion], labels[: args.fashion])
    python = sys.executable
    out = Path(tempfile.mkdtemp(prefix="overhead-"))
    flags = ["--data-dir", args.data_dir, "--output-dir", str(out / "outputs"), "--epochs", str(args.epochs)]
    flags += ["--early-stopping-patience", str(args.epochs + 1)]
    plain, plain_out = timed([python, "benchmarks/plain_keras.py", "--data-dir", args.data_dir, "--epochs", str(args.epochs)])
    first, _ = timed([python, "pipeline/run_local.py", *flags])
    cached, cached_out = timed([python, "pipeline/run_local.py", *flags])
    third, third_out = timed([python, "pipeline/run_local.py", *flags])
    emit(
        {
            "figure": "end-to-end overhead",
            "data_dir": args.data_dir,
            "epochs": args.epochs,
            "plain_keras_s": plain,
            "plain_keras_result": plain_out.strip(),
            "pipeline_first_run_s": first,
            "pipeline_cached_rerun_s": cached,
            "pipeline_third_run_s": third,
            "first_run_vs_plain": round(first / plain, 2),
            "cached_rerun_vs_first": round(cached / first, 3),
            "third_run_vs_first": round(third / first, 3),
            "cache_lines": [line for line in (cached_out + third_out).splitlines() if line.startswith("Run ")],
            "targets": {"first_run_vs_plain": "<= 1.5", "cached_rerun_vs_first": "<= 0.15"},
        },
        "each command a fresh process timed start to exit, one after another on an idle machine; "
        "the pipeline with its defaults otherwise (Beam in-process, class weights, augmentation)",
        sys.argv,
    )


if __name__ == "__main__":
    main()
