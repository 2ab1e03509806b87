"""What makes a folder of images lie to its owner, beyond class counts: pure functions, no Beam.

From the fingerprints ExampleGen writes (components/image_example_gen/fingerprints.py):

* exact duplicates: images with the same decoded pixels (the pixel hash), however stored;
* near duplicates: re-encoded, resized or slightly cropped copies (embedding neighbours confirmed
  pixel by pixel: neighbours.py, near.py);
* conflicting labels: such a group (exact or near) whose images are filed under more than one class;
* train/eval leaks: such a group with images in both splits (eval accuracy is overstated);
* outliers: near-constant images (blank, black, white), extreme aspect ratios, the blurriest
  images of each class (sharpness far below the class's median), and images far from every image
  of their own class in embedding space;
* label issues: images the embeddings say belong to another class (label_issues.py).
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from components.contracts.quality import GroupImage, ImageGroup, QualityRecord
from components.data_quality.options import QualityOptions

NEAR_CONSTANT, ASPECT_RATIO, BLURRY = "near_constant", "aspect_ratio", "blurry"
FAR_FROM_CLASS = "far_from_class"  # embedded.py
ODD_KINDS = (NEAR_CONSTANT, ASPECT_RATIO, BLURRY, FAR_FROM_CLASS)  # the outliers' kinds, as the report orders them


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


def _kinds(kind: str, classes: Iterable, splits: Iterable[str]) -> List[str]:
    """`kind`, and the problems a group of copies spanning classes or splits adds to it."""
    kinds = [kind]
    if len(set(classes)) > 1:
        kinds.append("conflicting_labels")
    if len(set(splits)) > 1:
        kinds.append("train_eval_leaks")
    return kinds


def group_kinds(members: Sequence[Image]) -> List[str]:
    """Which problems a group of images with the same pixels shows."""
    return _kinds("exact_duplicates", (m.label for m in members), (m.split for m in members))


def group_record(members: Sequence[Image], class_names: Sequence[str]) -> ImageGroup:
    """One group of images with the same pixels, as data_quality.json lists it: its images (path,
    split, class), sorted by path."""
    return ImageGroup(
        images=[GroupImage(m.path, m.split, class_names[m.label]) for m in sorted(members)],
        match="exact",
        pixel_hash=members[0].pixel_hash,
    )


def near_duplicate_groups(
    pairs: Sequence[Dict], same_pixels: Dict[str, str], class_names: Sequence[str]
) -> List[ImageGroup]:
    """The confirmed pairs of near copies as groups of two, sorted by path, the groups by their
    paths. Pairs are not chained into larger groups: likeness is not transitive, and a chain
    through look-alikes would join pictures that are not copies of each other. A pair with the
    same pixels is an exact duplicate and left to that list.

    A pair is {"images": [[path, split, label], [path, split, label]], "similarity", "difference"}."""
    groups = []
    for pair in pairs:
        (a, _, _), (b, _, _) = pair["images"]
        if a in same_pixels and same_pixels.get(b) == same_pixels[a]:
            continue
        groups.append(
            ImageGroup(
                images=[GroupImage(p, split, class_names[int(label)]) for p, split, label in sorted(pair["images"])],
                match="near",
                difference=pair["difference"],
                similarity=pair["similarity"],
            )
        )
    return sorted(groups, key=lambda g: [i.path for i in g.images])


def near_group_kinds(group: ImageGroup) -> List[str]:
    """As group_kinds, for a group of near copies."""
    return _kinds("near_duplicates", (i.class_name for i in group.images), (i.split for i in group.images))


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


def leaked_eval_images(groups: Iterable[ImageGroup]) -> List[str]:
    """Eval images whose pixels are also in train, sorted."""
    leaked = set()
    for group in groups:
        if {i.split for i in group.images} >= {"train", "eval"}:
            leaked.update(i.path for i in group.images if i.split == "eval")
    return sorted(leaked)


def findings(quality: QualityRecord) -> List[str]:
    """The data-quality verdict in sentences, most serious first; empty when nothing was found."""
    lines = []
    leaked = quality.leaked_eval_images
    if leaked:
        lines.append(
            f"{len(leaked)} eval image{'s' if len(leaked) > 1 else ''} also appear{'' if len(leaked) > 1 else 's'} "
            "in train (the same picture, or a near copy): eval accuracy is overstated."
        )
    conflicts = quality.conflicting_labels
    if conflicts:
        lines.append(
            f"{len(conflicts)} picture{'s are' if len(conflicts) > 1 else ' is'} filed under more than one class: "
            "at most one of the labels is right."
        )
    issues = quality.label_issues
    if issues:
        worst = issues[0]
        lines.append(
            f"{len(issues)} image{'s' if len(issues) > 1 else ''} may be filed under the wrong class "
            f"(confident learning on the embeddings); the likeliest: {worst.path}, filed as {worst.class_name}, "
            f"looks like {worst.suggested}."
        )
    duplicates = quality.exact_duplicates
    if duplicates:
        extra = sum(len(g.images) - 1 for g in duplicates)
        lines.append(f"{extra} image{'s are' if extra > 1 else ' is'} an exact copy of another ({len(duplicates)} groups).")
    near = quality.near_duplicates
    if near:
        images = len({i.path for g in near for i in g.images})
        lines.append(
            f"{len(near)} pair{'s' if len(near) > 1 else ''} of images look like copies of each other "
            f"(re-encoded, resized or cropped; {images} images)."
        )
    counts = quality.counts
    odd = [
        f"{getattr(counts, kind)} {kind.replace('_', ' ')}"
        for kind in ODD_KINDS
        if getattr(counts, kind)
    ]
    if odd:
        lines.append(f"Odd images: {', '.join(odd)}.")
    return lines
