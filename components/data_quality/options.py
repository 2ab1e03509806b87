"""The DataQuality step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class QualityOptions(Options):
    """The DataQuality step's thresholds (its one JSON Parameter)."""

    near_constant_contrast: float = setting(
        0.02, "an image whose luminance standard deviation (0-1) is below this is near-constant", at_least=0.0, at_most=0.5
    )
    max_aspect_ratio: float = setting(4.0, "longer / shorter side above which an image is odd", at_least=1.0)
    blur_fraction: float = setting(
        0.05, "an image whose sharpness is below this share of its class's median is called blurry", at_least=0.0, below=1.0
    )
    near_duplicate_similarity: float = setting(
        0.75,
        "two images are compared pixel by pixel when the cosine similarity of their embeddings is at least this "
        "(and one is among the other's closest)",
        at_least=0.0,
        at_most=1.0,
    )
    near_duplicate_pixel_similarity: float = setting(
        0.95,
        "... or when one is the other's nearest tiny (12 px) luminance image, at a cosine similarity of at least this",
        at_least=0.0,
        at_most=1.0,
    )
    near_duplicate_candidates: int = setting(
        6, "each image's most similar images by embedding that are compared pixel by pixel",
        at_least=1,
        at_most=64,
    )
    near_duplicate_difference: float = setting(
        0.2,
        "largest difference of two such images, aligned on their best crop (98th percentile of the absolute "
        "difference in standard deviations), that still makes them near duplicates",
        at_least=0.0,
        at_most=2.0,
    )
    far_from_class_fence: float = setting(
        3.0,
        "an image is far from its class when its similarity to its closest images of that class is below the "
        "class's first quartile minus this many interquartile ranges (Tukey's far-out fence)",
        at_least=0.0,
    )
    label_issues: bool = setting(
        True, "look for images filed under the wrong class (confident learning on the embeddings)", flag="--no-label-issues"
    )
    drop_label_issues: bool = setting(
        False,
        "leave the images confident learning flags out of training and evaluation, each listed as dropped "
        "(look at the report's gallery first: the flagged include hard but rightly labelled images)",
    )
