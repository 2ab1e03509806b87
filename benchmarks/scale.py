"""Figure 3: the data steps' wall time and peak memory from 2k to 200k images (ExampleGen with its
fingerprints, StatisticsGen, ExampleValidator, DataQuality, LabelBalance with its gallery, Transform).

    .venv/bin/python benchmarks/scale.py                 # 2000 10000 50000 200000
    .venv/bin/python benchmarks/scale.py --sizes 2000 10000

Each size runs in a fresh process (so its peak memory is its own) with the real components through
LocalDagRunner, no cache, on Fashion-MNIST PNGs (28x28) in class folders; beyond the 70,000 images
of the data set, rotated copies. Targets: time per image at the largest size <= 1.1x that at 2k;
peak memory <= 1.5x that at 2k.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import CACHE, each_size_in_its_own_process, emit, fashion_images, peak_rss_mib, run_data_steps, write_image_folders

def one_size(n: int, beam_args) -> dict:
    """Runs in its own process: the data steps on n images."""
    from pipeline import console

    console.quiet_libraries(verbose=False)
    images, labels = fashion_images(n)
    data_dir = CACHE / f"fashion-{n}"
    write_image_folders(data_dir, images, labels)
    seconds, record = run_data_steps(data_dir, Path(tempfile.mkdtemp(prefix=f"scale-{n}-")), beam_args, enable_cache=False)
    states = {node: run.state for node, run in record.nodes.items()}
    return {"images": n, "seconds": round(seconds, 1), "peak_rss_mib": round(peak_rss_mib(), 0), "states": states}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000, 200000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--beam-arg", action="append", default=[])
    args = parser.parse_args(argv)
    from pipeline.beam_packaging import beam_args as all_beam_args
    from pipeline.config import SETUP_FILE

    beam_args = list(all_beam_args(args.beam_arg, str(SETUP_FILE)))
    if args.one:
        print(json.dumps(one_size(args.one, args.beam_arg)))
        return
    runs = each_size_in_its_own_process(__file__, args.sizes, args.beam_arg)
    small, large = runs[0], runs[-1]
    per_image = [r["seconds"] / r["images"] for r in runs]
    emit(
        {
            "figure": "scale: the data steps (ExampleGen, StatisticsGen, ExampleValidator, DataQuality, LabelBalance, Transform)",
            "runs": runs,
            "ms_per_image": [round(x * 1000, 3) for x in per_image],
            "time_per_image_ratio_largest_vs_smallest": round(per_image[-1] / per_image[0], 3),
            "peak_memory_ratio_largest_vs_smallest": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3),
            "targets": {"time_per_image_ratio": "<= 1.1", "peak_memory_ratio": "<= 1.5"},
        },
        "LocalDagRunner, cache off, the DAG up to Transform (with ExampleValidator, DataQuality and LabelBalance), each size in a fresh process; Fashion-MNIST train images as 28x28 PNG "
        "class folders (written once under the temp dir); beam args: " + " ".join(beam_args),
        sys.argv,
    )


if __name__ == "__main__":
    main()
