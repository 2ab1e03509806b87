"""Images filed under the wrong class, by confident learning (Northcutt, Jiang and Chuang, "Confident
Learning: Estimating Uncertainty in Dataset Labels", JAIR 2021). Pure numpy and scikit-learn.

1. Out-of-sample probabilities: k-fold cross-validated logistic regression on the embeddings
   (neighbours.Space), so no image is judged by a model that saw its label. Seconds for
   thousands of images, where k CNNs would take hours.
2. Per-class thresholds: t_j, the mean probability of class j over the images labelled j.
3. The confident joint C[i][j]: the images labelled i whose probability of j is at least t_j
   (the largest such j), calibrated so that each row sums to the count of label i, then
   normalised to the joint distribution Q of given and true labels. The off-diagonal mass times
   the image count estimates how many labels are wrong.
4. Which ones (prune by noise rate): for each cell (i, j) off the diagonal, the round(n * Q[i][j])
   images labelled i with the largest margin p_j - p_i; an image whose most probable class is
   its given one is never flagged.
5. The score is the image's self-confidence, the probability of its given class: lower is worse,
   and the list is ordered by it.

The estimate counts every image the classifier confidently puts elsewhere. When the classifier is
weak (its accuracy is recorded), hard but rightly labelled images are among them: the top of the
list is what to look at first.
"""
from __future__ import annotations

import dataclasses
from typing import List

import numpy as np

FOLDS = 5
FIT_IMAGES = 20_000  # each fold's model is fitted on at most this many of its images (a stratified sample)
REGULARISATION = 0.1  # scikit-learn's C at unit feature variance: a strong prior; classes weighted by their counts


@dataclasses.dataclass
class Found:
    probabilities: np.ndarray  # float32 [n, classes], out of sample
    flagged: List[int]  # image indices, worst (lowest self-confidence) first
    suggested: np.ndarray  # int [n]: each image's most probable class
    self_confidence: np.ndarray  # float32 [n]
    estimated_errors: int  # n x the confident joint's off-diagonal mass
    accuracy: float  # of the out-of-sample argmax against the given labels


def fold_count(labels: np.ndarray, classes: int, folds: int = FOLDS) -> int:
    """The folds the cross-validation uses: `folds`, fewer when the smallest class has fewer
    images (at least 2), and 0 when there is nothing to cross-validate."""
    counts = np.bincount(labels, minlength=classes)
    if len(labels) < 4 or (counts > 0).sum() < 2:
        return 0
    return int(min(folds, max(2, counts[counts > 0].min())))


def out_of_sample(vectors: np.ndarray, labels: np.ndarray, classes: int, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """float32 [n, classes]: each image's class probabilities from a model fitted on the other folds.

    A class with fewer images than folds is in every fold it can be; a class absent from a fold's
    training part gets probability 0 there. Each model sees at most FIT_IMAGES images."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, train_test_split

    n = len(labels)
    probabilities = np.zeros((n, classes), np.float32)
    folds = fold_count(labels, classes, folds)
    if folds < 2:
        probabilities[np.arange(n), labels] = 1.0  # nothing to learn from: no image is judged
        return probabilities
    # As if the unit vectors were scaled by sqrt(d), to features of variance about 1 on average,
    # with the principal components keeping their natural weights (standardising each would lift
    # noise to par): the same model as C * d on the vectors themselves, without a copy of them.
    strength = REGULARISATION * vectors.shape[1]
    for train, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(vectors, labels):
        if len(train) > FIT_IMAGES:  # enough to fit 128 weights a class; memory and time stay per image
            train, _ = train_test_split(train, train_size=FIT_IMAGES, stratify=labels[train], random_state=seed)
        if len(np.unique(labels[train])) < 2:  # nothing to tell apart: the held images are not judged
            probabilities[held, labels[held]] = 1.0
            continue
        model = LogisticRegression(C=strength, max_iter=300, class_weight="balanced")
        model.fit(vectors[train], labels[train])
        probabilities[np.ix_(held, model.classes_)] = model.predict_proba(vectors[held])
    return probabilities


def confident_learning(probabilities: np.ndarray, labels: np.ndarray) -> Found:
    """The label issues of images with these out-of-sample probabilities and given labels."""
    n, classes = probabilities.shape
    rows = np.arange(n)
    self_confidence = probabilities[rows, labels].astype(np.float32)
    suggested = probabilities.argmax(axis=1)
    counts = np.bincount(labels, minlength=classes)
    thresholds = np.array(
        [probabilities[labels == j, j].mean() if counts[j] else np.inf for j in range(classes)], np.float32
    )
    above = probabilities >= thresholds[None, :]
    confident = np.where(above, probabilities, -1.0).argmax(axis=1)
    joint = np.zeros((classes, classes))
    has = above.any(axis=1)
    np.add.at(joint, (labels[has], confident[has]), 1)
    row_sums = joint.sum(axis=1, keepdims=True)
    calibrated = np.divide(joint, row_sums, out=np.zeros_like(joint), where=row_sums > 0) * counts[:, None]
    q = calibrated / max(calibrated.sum(), 1)
    estimated = int(round(n * (q.sum() - np.trace(q))))
    flagged = np.zeros(n, bool)
    for given in range(classes):
        members = np.nonzero(labels == given)[0]
        for true in range(classes):
            wanted = int(round(n * q[given, true]))
            if true == given or wanted == 0 or not len(members):
                continue
            margin = probabilities[members, true] - probabilities[members, given]
            flagged[members[np.argsort(-margin, kind="stable")[:wanted]]] = True
    flagged &= suggested != labels
    order = [int(i) for i in np.nonzero(flagged)[0][np.argsort(self_confidence[flagged], kind="stable")]]
    accuracy = float((suggested == labels).mean()) if n else 0.0
    return Found(probabilities, order, suggested, self_confidence, estimated, round(accuracy, 4))
