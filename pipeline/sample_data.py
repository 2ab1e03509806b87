"""The built-in sample: real handwritten digits from scikit-learn, imbalanced like users' data.

scikit-learn ships 1,797 8x8 digits (it is a TFX dependency, so nothing is downloaded). The sample
keeps every "zero" and a few of each other digit, so "zero" holds about two thirds of the images
and a model that always answers "zero" scores about 66%: the trap this pipeline exists to expose.
Images are upscaled to 32x32 grayscale PNGs in one folder per class.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict

import numpy as np

CLASS_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MAJORITY_DIGIT = 0
IMAGES_PER_MINORITY_CLASS = 10
IMAGE_SIZE = 32
SEED = 20240611


def write_sample_dataset(
    out_dir: os.PathLike,
    images_per_minority_class: int = IMAGES_PER_MINORITY_CLASS,
    image_size: int = IMAGE_SIZE,
    seed: int = SEED,
) -> Dict[str, int]:
    """Writes <out_dir>/<class name>/<class name>_<index>.png and returns the count per class.

    The same arguments always give the same files. The folder appears whole or not at all: it is
    written beside `out_dir` and renamed into place.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    counts = {}
    try:
        for digit, name in enumerate(CLASS_NAMES):
            indices = np.flatnonzero(digits.target == digit)
            if digit != MAJORITY_DIGIT:
                indices = np.sort(rng.choice(indices, size=images_per_minority_class, replace=False))
            (staging / name).mkdir()
            for index in indices:
                # Pixel values are ink intensities 0..16: draw light ink on a dark background.
                pixels = np.round(digits.images[index] * (255 / 16)).astype(np.uint8)
                image = Image.fromarray(pixels, mode="L").resize((image_size, image_size), Image.BICUBIC)
                image.save(staging / name / f"{name}_{index:04d}.png")
            counts[name] = len(indices)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return counts


def ensure_sample_dataset(out_dir: os.PathLike) -> bool:
    """Writes the sample into `out_dir` unless it is already there; True if it was written."""
    if Path(out_dir).is_dir():
        return False
    write_sample_dataset(out_dir)
    return True


def main(argv=None) -> int:
    from pipeline.config import SAMPLE_DATA_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(SAMPLE_DATA_DIR), help="(default: %(default)s)")
    parser.add_argument(
        "--per-minority-class",
        type=int,
        default=IMAGES_PER_MINORITY_CLASS,
        help="images of each digit other than zero (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    counts = write_sample_dataset(args.out_dir, images_per_minority_class=args.per_minority_class)
    total = sum(counts.values())
    majority = CLASS_NAMES[MAJORITY_DIGIT]
    print(
        f"Wrote {total} images in {len(counts)} class folders to {args.out_dir}; "
        f"'{majority}' holds {counts[majority] / total:.1%}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
