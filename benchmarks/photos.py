"""Figure 5: a whole run on 224 px images: peak memory from 2k to 20k images, and Transform's disk.

    .venv/bin/python benchmarks/photos.py                    # 2000 20000 images, one epoch each
    .venv/bin/python benchmarks/photos.py --sizes 2000 --epochs 2

Fashion-MNIST upscaled (bicubic) to 224 x 224 PNG files in class folders, then
`pipeline/run_local.py --image-size 224 --channels 3 --epochs N` on a fresh output dir, every
component, each size in a fresh process measured from outside (its peak resident memory).
Targets: peak memory at 20k <= 1.5x that at 2k, and under 4 GB; Transform's output on disk per
image <= 1.5x the raw example per image, or none.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from common import CACHE, REPO_ROOT, emit, fashion_images, run_pipeline_process, write_image_folders

SIZE = 224


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def one_size(n: int, epochs: int) -> dict:
    """Runs in its own process, so that RUSAGE_CHILDREN is the pipeline's peak alone."""
    images, labels = fashion_images(n)
    data_dir = CACHE / f"fashion-{n}-{SIZE}px"
    write_image_folders(data_dir, images, labels, size=SIZE)
    output_dir = Path(tempfile.mkdtemp(prefix=f"photos-{n}-"))
    flags = ["--image-size", str(SIZE), "--channels", "3", "--epochs", str(epochs)]
    seconds, summary, steps = run_pipeline_process(data_dir, output_dir, flags)
    root = output_dir / "pipeline_root"
    raw = folder_bytes(root / "ImageExampleGen" / "examples")
    transformed = folder_bytes(root / "Transform" / "transformed_examples") if (root / "Transform" / "transformed_examples").exists() else 0
    return {
        "images": n,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "step_seconds": steps,
        "raw_example_bytes_per_image": round(raw / n),
        "transformed_examples_bytes_per_image": round(transformed / n),
        "transform_graph_bytes": folder_bytes(root / "Transform" / "transform_graph"),
        "source_png_bytes_per_image": round(folder_bytes(data_dir) / n),
        "trainer_input": summary["training"]["input"],
        "eval_accuracy": summary["evaluation"]["accuracy"],
        "balanced_accuracy": summary["evaluation"].get("balanced_accuracy"),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.epochs)))
        return
    runs = []
    for n in args.sizes:
        command = [sys.executable, __file__, "--one", str(n), "--epochs", str(args.epochs)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=os.environ)
        if result.returncode:
            sys.exit(f"size {n} failed:\n{result.stderr[-3000:]}")
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"{n} images: {runs[-1]['seconds']} s, peak {runs[-1]['peak_rss_mib']} MiB", file=sys.stderr)
    small, large = runs[0], runs[-1]
    emit(
        {
            "figure": "photos: a whole run at 224 x 224 x 3",
            "runs": runs,
            "peak_memory_ratio_largest_vs_smallest": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3),
            "transform_disk_per_image_vs_raw": round(
                large["transformed_examples_bytes_per_image"] / large["raw_example_bytes_per_image"], 3
            ),
            "targets": {"peak_memory_ratio": "<= 1.5", "peak_memory_mib": "< 4096", "transform_disk_ratio": "<= 1.5, or none"},
        },
        f"run_local.py --image-size {SIZE} --channels 3 --epochs {args.epochs}, fresh output dir, default "
        "settings otherwise (simple_cnn, --cache-budget-mb unset); each size in a fresh process; Fashion-MNIST "
        f"upscaled to {SIZE} px PNG (written once under the temp dir)",
        sys.argv,
    )


if __name__ == "__main__":
    main()
