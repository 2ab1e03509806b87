"""The checks that need the Embeddings artifact: near copies from embedding neighbours confirmed on
pixels, images far from their own class, and label issues (neighbours.py, label_issues.py).

Memory holds the projected vectors (512 bytes an image), the neighbour arrays (a few dozen bytes
an image), the luminance thumbnails of the candidate pairs' images, and one shard at a time.
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Dict, List, Sequence, Tuple

import numpy as np

from components.contracts.embeddings import EmbeddingIndex, read_shard
from components.contracts.quality import LabelCheck, LabelIssue, Outlier
from components.data_quality import label_issues, near, neighbours
from components.data_quality.checks import FAR_FROM_CLASS
from components.data_quality.options import QualityOptions

CLASS_NEIGHBOURS = 5  # an image's typicality: its mean similarity to this many closest images of its class
PIXEL_CANDIDATES = 1  # a re-encoded or resized copy is its original's nearest tiny image
MIN_JUDGED_CLASS = 5  # labels are judged only when every class has at least this many images


@dataclasses.dataclass
class EmbeddingFindings:
    near_pairs: List[Dict]  # {"images": [[path, split, label], [path, split, label]], "similarity", "difference"}
    far: List[Outlier]
    label_issues: List[LabelIssue]
    label_check: LabelCheck
    seconds: Dict[str, float]


def _thumbnails(uri: str, index: EmbeddingIndex, found: neighbours.Space, wanted: Sequence[int]) -> Dict[int, np.ndarray]:
    """image -> its luminance thumbnail, for the wanted images: one pass over the shards that hold them."""
    by_shard: Dict[int, List[int]] = {}
    for image in sorted(set(wanted)):
        by_shard.setdefault(int(found.shard[image]), []).append(image)
    pictures = {}
    for shard_number, images in sorted(by_shard.items()):
        shard = read_shard(uri, index.shards[shard_number])
        for image in images:
            pictures[image] = near.thumbnail_array(shard.thumbnails[int(found.row[image])])
    return pictures


def _near_pairs(space: neighbours.Space, candidates, uri: str, index: EmbeddingIndex, options: QualityOptions):
    pictures = _thumbnails(uri, index, space, np.unique(candidates).tolist())
    limit = options.near_duplicate_difference
    pairs = []
    for a, b in candidates:  # rows of the array: no Python list of a million pairs
        gap = near.difference(pictures[a], pictures[b], 2 * limit)
        if gap <= limit:
            a, b = int(a), int(b)
            images = [[space.paths[i], space.splits[i], int(space.labels[i])] for i in (a, b)]
            similarity = float(space.vectors[a] @ space.vectors[b])
            pairs.append({"images": images, "similarity": round(similarity, 4), "difference": round(gap, 4)})
    return pairs


def _label_check(space: neighbours.Space, class_names: Sequence[str], options: QualityOptions) -> Tuple[LabelCheck, List[LabelIssue]]:
    classes = len(class_names)
    counts = np.bincount(space.labels, minlength=classes)
    present = counts[counts > 0]

    def not_judged(reason: str) -> Tuple[LabelCheck, List[LabelIssue]]:
        return LabelCheck(False, reason, len(space), 0, None, None, None), []

    if not options.label_issues:
        return not_judged("not looked for (--no-label-issues)")
    if len(present) < 2 or present.min() < MIN_JUDGED_CLASS:
        return not_judged(f"not judged: every class needs at least {MIN_JUDGED_CLASS} images")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probabilities = label_issues.out_of_sample(space.vectors, space.labels, classes)
    found = label_issues.confident_learning(probabilities, space.labels)
    recalls = [float((found.suggested[space.labels == c] == c).mean()) for c in range(classes) if counts[c]]
    balanced = round(float(np.mean(recalls)), 4)
    # The classifier must get at least half-way from chance to perfect before its doubts mean much.
    needed = (1 + 1 / len(present)) / 2
    folds = label_issues.fold_count(space.labels, classes)
    if balanced < needed:
        return (
            LabelCheck(
                False,
                f"not judged: the embedding classifier's balanced accuracy {balanced:.2f} is under {needed:.2f} "
                "(half-way from chance to perfect), so its doubts say little about the labels",
                len(space), folds, found.accuracy, balanced, None,
            ),
            [],
        )  # fmt: skip
    issues = [
        LabelIssue(
            path=space.paths[i],
            split=space.splits[i],
            class_name=class_names[space.labels[i]],
            suggested=class_names[found.suggested[i]],
            score=round(float(found.self_confidence[i]), 4),
        )
        for i in found.flagged
    ]
    how = (
        f"{folds}-fold logistic regression on the embeddings, then confident learning; "
        f"out-of-sample accuracy {found.accuracy:.3f}, balanced {balanced:.3f}"
    )
    return LabelCheck(True, how, len(space), folds, found.accuracy, balanced, found.estimated_errors), issues


def embedding_checks(uri: str, index: EmbeddingIndex, class_names: Sequence[str], options: QualityOptions) -> EmbeddingFindings:
    """Every check on the embeddings in the artifact at `uri`."""
    seconds = {}
    started = time.monotonic()
    space = neighbours.space(uri, index)
    seconds["projection"] = time.monotonic() - started
    started = time.monotonic()
    k = options.near_duplicate_candidates
    found = neighbours.neighbours(space.vectors, space.labels, k, options.near_duplicate_similarity, CLASS_NEIGHBOURS)
    by_pixels = neighbours.neighbours(space.pixels, space.labels, PIXEL_CANDIDATES, options.near_duplicate_pixel_similarity)
    candidates = neighbours.candidate_pairs(found, by_pixels)
    space.pixels = by_pixels = None  # done with: memory for the label check
    seconds["neighbours"] = time.monotonic() - started
    started = time.monotonic()
    pairs = _near_pairs(space, candidates, uri, index, options)
    seconds["pixel_checks"] = time.monotonic() - started
    seconds["candidate_pairs"] = len(candidates)
    started = time.monotonic()
    check, issues = _label_check(space, class_names, options)
    seconds["label_issues"] = time.monotonic() - started
    # An image that looks like another class is far from its own too: it is reported as a label issue.
    mislabelled = {issue.path for issue in issues}
    far = [
        Outlier(space.paths[i], space.splits[i], class_names[space.labels[i]], FAR_FROM_CLASS, round(value, 4))
        for i, value in neighbours.far_from_class(space.labels, found, fence=options.far_from_class_fence)
        if space.paths[i] not in mislabelled
    ]
    return EmbeddingFindings(pairs, far, issues, check, {k: round(v, 2) for k, v in seconds.items()})
