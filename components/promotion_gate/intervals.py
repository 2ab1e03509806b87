"""How sure the eval split lets us be: intervals for the gate's figures and a paired test against the
last blessed model. Pure functions of counts (numpy and scipy, no TensorFlow).

Every figure the gate judges is a function of the confusion matrix, so the intervals come from its
counts, exactly, not from re-running an evaluation:

- a proportion (accuracy, one class's recall or precision): the Clopper-Pearson interval, the
  2.5% quantile of Beta(k, n - k + 1) and the 97.5% one of Beta(k + 1, n - k), 0 and 1 at k = 0
  and k = n. It is exact: a model no better than a bar has its lower bound above the bar in at
  most 2.5% of eval splits, whatever their size (benchmarks/gate.py measures it: the Jeffreys
  interval, tried first, let 4% through at 45 images). It holds on 45 images and at 44 of 45
  right, where the normal approximation claims a bound above 1;
- balanced accuracy, the mean of the classes' recalls: the posterior of that mean, each recall
  Beta(k + 1/2, n - k + 1/2), sampled (Brodersen et al., "The balanced accuracy and its posterior
  distribution", 2010, with the Jeffreys prior), widened to include the observed value;
- against the last blessed model, on the same images: McNemar's exact test on the images only
  one of the two gets right; for balanced accuracy the same sign test with each image weighted
  by 1 / its class's eval count, so that the difference it tests is the balanced accuracy's.

Sampling is seeded: the same counts always give the same interval and p-value.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy import stats

DRAWS = 20_000  # posterior and sign-flip draws: the 2.5% quantile moves by under 0.002 between seeds
SEED = 0


def proportion_interval(k: float, n: float, confidence: float) -> Optional[List[float]]:
    """[low, high], the Clopper-Pearson interval of k successes in n; None when n is 0."""
    if n <= 0:
        return None
    tail = (1.0 - confidence) / 2
    low = 0.0 if k <= 0 else float(stats.beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k >= n else float(stats.beta.ppf(1 - tail, k + 1, n - k))
    return [low, high]


def balanced_accuracy_interval(
    right: Sequence[float], totals: Sequence[float], confidence: float, draws: int = DRAWS
) -> Optional[List[float]]:
    """[low, high] for the mean recall of the classes with images: `right[c]` of `totals[c]`."""
    pairs = [(k, n) for k, n in zip(right, totals) if n > 0]
    if not pairs:
        return None
    rng = np.random.default_rng(SEED)
    samples = np.mean([rng.beta(k + 0.5, n - k + 0.5, size=draws) for k, n in pairs], axis=0)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    observed = sum(k / n for k, n in pairs) / len(pairs)
    return [float(min(low, observed)), float(max(high, observed))]


@dataclasses.dataclass(frozen=True)
class PairedResult:
    """The candidate against the baseline on the same images."""

    candidate: float  # the figure (accuracy or balanced accuracy) of each
    baseline: float
    candidate_only: int  # images only the candidate gets right
    baseline_only: int  # images only the baseline gets right
    p_value: float  # one-sided: how often chance alone makes the candidate look this much worse


def paired_accuracy(per_class: Sequence[Sequence[int]]) -> PairedResult:
    """McNemar's exact test. `per_class[c]`: [both right, candidate only, baseline only, both wrong]."""
    counts = np.asarray(per_class, dtype=np.int64).reshape(-1, 4).sum(axis=0)
    n = int(counts.sum())
    both, candidate_only, baseline_only, _ = (int(x) for x in counts)
    discordant = candidate_only + baseline_only
    p_value = float(stats.binom.cdf(candidate_only, discordant, 0.5)) if discordant else 1.0
    return PairedResult(
        candidate=(both + candidate_only) / n if n else 0.0,
        baseline=(both + baseline_only) / n if n else 0.0,
        candidate_only=candidate_only,
        baseline_only=baseline_only,
        p_value=p_value,
    )


def paired_balanced_accuracy(per_class: Sequence[Sequence[int]], draws: int = DRAWS) -> PairedResult:
    """The sign test on the discordant images, each weighted by 1 / (classes x its class's images):
    under "the two models are as good", each discordant image is equally likely to favour either."""
    counts = np.asarray(per_class, dtype=np.int64).reshape(-1, 4)
    counts = counts[counts.sum(axis=1) > 0]
    if not len(counts):
        return PairedResult(0.0, 0.0, 0, 0, 1.0)
    n = counts.sum(axis=1).astype(np.float64)
    weight = 1.0 / (len(counts) * n)
    candidate = float(np.sum((counts[:, 0] + counts[:, 1]) * weight))
    baseline = float(np.sum((counts[:, 0] + counts[:, 2]) * weight))
    discordant = counts[:, 1] + counts[:, 2]
    observed = candidate - baseline
    if not discordant.any():
        p_value = 1.0
    else:
        rng = np.random.default_rng(SEED)
        favour = rng.binomial(discordant[None, :], 0.5, size=(draws, len(counts)))
        differences = ((2 * favour - discordant[None, :]) * weight[None, :]).sum(axis=1)
        p_value = float((1 + np.sum(differences <= observed + 1e-12)) / (1 + draws))
    return PairedResult(
        candidate=candidate,
        baseline=baseline,
        candidate_only=int(counts[:, 1].sum()),
        baseline_only=int(counts[:, 2].sum()),
        p_value=min(1.0, p_value),
    )


def rows_and_columns(matrix, classes: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right per actual class, images per actual class, predictions per class) of {(a, p): n}."""
    right, actual, predicted = np.zeros(classes), np.zeros(classes), np.zeros(classes)
    for (a, p), n in matrix.items():
        if 0 <= a < classes:
            actual[a] += n
            right[a] += n if a == p else 0
        if 0 <= p < classes:
            predicted[p] += n
    return right, actual, predicted
