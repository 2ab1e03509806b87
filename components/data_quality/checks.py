"""What makes a folder of images lie to its owner, beyond class counts: pure functions, no Beam.

From the fingerprints ExampleGen writes (components/image_example_gen/fingerprints.py):

* exact duplicates: images with the same decoded pixels (the pixel hash), however stored;
* conflicting labels: such a group whose images are filed under more than one class;
* train/eval leaks: such a group with images in both splits (eval accuracy is overstated);
* outliers: near-constant images (blank, black, white), extreme aspect ratios, and the blurriest
  images of each class (sharpness far below the class's median).
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from components.options import require

NEAR_CONSTANT, ASPECT_RATIO, BLURRY = "near_constant", "aspect_ratio", "blurry"


@dataclasses.dataclass(frozen=True)
class QualityOptions:
    """The DataQuality step's thresholds: its Parameters, one per field."""

    near_constant_contrast: float = 0.02  # luminance standard deviation (0-1) below which an image is near-constant
    max_aspect_ratio: float = 4.0  # longer side / shorter side above which an image is an outlier
    blur_fraction: float = 0.05  # sharpness below this share of its class's median is a blurry outlier

    def __post_init__(self):
        require(
            0.0 <= self.near_constant_contrast <= 0.5,
            "{near_constant_contrast} {value} must be between 0 and 0.5.",
            value=self.near_constant_contrast,
        )
        require(self.max_aspect_ratio >= 1.0, "{max_aspect_ratio} {value} must be at least 1.", value=self.max_aspect_ratio)
        require(0.0 <= self.blur_fraction < 1.0, "{blur_fraction} {value} must be in [0, 1).", value=self.blur_fraction)

    def parameters(self) -> Dict[str, float]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, order=True)
class Image:
    """What the checks need of one example."""

    path: str
    split: str
    label: int
    pixel_hash: str
    contrast: float
    sharpness: float
    width: int
    height: int


def group_kinds(members: Sequence[Image]) -> List[str]:
    """Which problems a group of images with the same pixels shows."""
    kinds = ["exact_duplicates"]
    if len({m.label for m in members}) > 1:
        kinds.append("conflicting_labels")
    if len({m.split for m in members}) > 1:
        kinds.append("train_eval_leaks")
    return kinds


def group_record(members: Sequence[Image], class_names: Sequence[str]) -> Dict:
    """One group as data_quality.json lists it: its images (path, split, class), sorted by path."""
    return {
        "pixel_hash": members[0].pixel_hash,
        "images": [{"path": m.path, "split": m.split, "class": class_names[m.label]} for m in sorted(members)],
    }


def outlier(image: Image, options: QualityOptions) -> Optional[Tuple[str, float]]:
    """(kind, value) when the image is near-constant or has an extreme aspect ratio, else None."""
    if image.contrast < options.near_constant_contrast:
        return NEAR_CONSTANT, image.contrast
    ratio = max(image.width, image.height) / max(1, min(image.width, image.height))
    if ratio > options.max_aspect_ratio:
        return ASPECT_RATIO, ratio
    return None


def is_blurry(image: Image, class_median: float, options: QualityOptions) -> bool:
    """Far less sharp than its class's median (near-constant images are reported as such instead)."""
    return (
        class_median > 0
        and image.contrast >= options.near_constant_contrast
        and image.sharpness < options.blur_fraction * class_median
    )


def leaked_eval_images(groups: Iterable[Dict]) -> List[str]:
    """Eval images whose pixels are also in train, sorted."""
    leaked = set()
    for group in groups:
        if {i["split"] for i in group["images"]} >= {"train", "eval"}:
            leaked.update(i["path"] for i in group["images"] if i["split"] == "eval")
    return sorted(leaked)


def findings(quality: Dict) -> List[str]:
    """The data-quality verdict in sentences, most serious first; empty when nothing was found."""
    lines = []
    leaked = quality["leaked_eval_images"]
    if leaked:
        lines.append(
            f"{len(leaked)} eval image{'s' if len(leaked) > 1 else ''} also appear{'' if len(leaked) > 1 else 's'} "
            "in train (the same pixels): eval accuracy is overstated."
        )
    conflicts = quality["conflicting_labels"]
    if conflicts:
        lines.append(
            f"{len(conflicts)} picture{'s are' if len(conflicts) > 1 else ' is'} filed under more than one class: "
            "at most one of the labels is right."
        )
    duplicates = quality["exact_duplicates"]
    if duplicates:
        extra = sum(len(g["images"]) - 1 for g in duplicates)
        lines.append(f"{extra} image{'s are' if extra > 1 else ' is'} an exact copy of another ({len(duplicates)} groups).")
    counts = quality["counts"]
    odd = [f"{counts[kind]} {kind.replace('_', ' ')}" for kind in (NEAR_CONSTANT, ASPECT_RATIO, BLURRY) if counts[kind]]
    if odd:
        lines.append(f"Odd images: {', '.join(odd)}.")
    return lines
