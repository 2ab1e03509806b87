"""The Trainer's side of tuning: what the Tuner searches over the Trainer's options, how a result
applies to them, and when an earlier tuning result still applies. The Tuner (components/tuner/)
uses this module; the Trainer never imports the Tuner. Importable without TensorFlow.

The space (one list of values per hyperparameter, sampled at random by KerasTuner):

* architecture: the from-scratch networks, and the bundled backbone when --architecture auto finds
  the images large enough for it; a run on a named pretrained backbone keeps its backbone;
* fine_tune_learning_rate, when a pretrained backbone is in the space;
* learning_rate, dropout, batch_size;
* augment_strength (when augmentation is on);
* imbalance_strategy: class weights, oversampling or nothing.

The objective is the best validation balanced accuracy a trial reaches, so a trial that wins by
answering the largest class more often does not win. A tuning result is reused by later runs
without --tune only while the data (ExampleGen's fingerprint of the image files) and the search
space are those it was found on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, List, Mapping, Optional, Tuple

from components.contracts.training import TuningRecord
from components.imbalance import STRATEGIES
from components.trainer.options import AUTO, BACKBONE_ARCHITECTURES, BUNDLED_BACKBONE, TrainingOptions

OBJECTIVE = "val_balanced_accuracy"
# The from-scratch networks, in the order earlier tunings' space fingerprints have them.
FROM_SCRATCH = ("simple_cnn", "resnet_small", "deeper_cnn")
# What the Tuner's best_hyperparameters artifact records about the tuning (ML Metadata properties).
DATA_FINGERPRINT = "data_fingerprint"
SPACE_FINGERPRINT = "search_space_fingerprint"


def search_space(options: TrainingOptions, backbone_fits: bool = False) -> List[Tuple[str, List[Any]]]:
    """(name, values) per hyperparameter, for the Trainer's `options` (the flags of the run).

    `backbone_fits`: with --architecture auto, the images are large enough for the bundled
    backbone (choice.py), which then competes with the from-scratch networks; a backbone named
    with its weights stays (tuning must not trade it away)."""
    if options.architecture in BACKBONE_ARCHITECTURES and options.pretrained:
        architectures = [options.architecture]
    elif options.architecture == AUTO and backbone_fits:
        architectures = [BUNDLED_BACKBONE, *FROM_SCRATCH]
    else:
        architectures = list(FROM_SCRATCH)
    space = [
        ("architecture", architectures),
        ("learning_rate", [3e-4, 1e-3, 3e-3]),
        ("dropout", [0.1, 0.3, 0.5]),
        ("batch_size", [16, 32, 64]),
        ("imbalance_strategy", list(STRATEGIES)),
    ]
    if options.augment:
        space.append(("augment_strength", [0.5, 1.0, 1.5]))
    if set(architectures) & set(BACKBONE_ARCHITECTURES):
        space.append(("fine_tune_learning_rate", [3e-5, 1e-4, 3e-4]))
    return space


def space_fingerprint(space: List[Tuple[str, List[Any]]]) -> str:
    return hashlib.sha256(json.dumps(space, sort_keys=True).encode()).hexdigest()[:16]


def data_fingerprint(examples_fingerprint: str, hints: Mapping[str, Any]) -> str:
    """The data a tuning result was found on: ExampleGen's fingerprint of the files, and the labels."""
    labels = {key: hints.get(key) for key in ("class_names", "train_counts", "split_sizes")}
    payload = json.dumps([examples_fingerprint, labels], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def apply(options: TrainingOptions, values: Mapping[str, Any]) -> TrainingOptions:
    """The Trainer's options with the tuned `values` in place (the imbalance strategy is one)."""
    fields = {f.name for f in dataclasses.fields(TrainingOptions)}
    return dataclasses.replace(options, **{name: value for name, value in values.items() if name in fields})


def tuned_values(
    config: Optional[Mapping[str, Any]],
    found_on: Mapping[str, Optional[str]],
    now: Mapping[str, str],
    tuned_in_this_run: bool,
    reuse: bool,
    uri: Optional[str] = None,
) -> TuningRecord:
    """Whether the Trainer trains with the best hyperparameters `config` (KerasTuner's
    `HyperParameters.get_config()`, as the Tuner wrote it), and why.

    `found_on` and `now` hold DATA_FINGERPRINT and SPACE_FINGERPRINT of the tuning and of this run.
    """
    if not config:
        return TuningRecord(None, None, "no tuning result in this output dir (--tune runs the Tuner)")
    values = dict(config.get("values", {}))
    if tuned_in_this_run:
        return TuningRecord(values, "tuner", "the Tuner's best hyperparameters (--tune)", uri)
    if not reuse:
        return TuningRecord(None, None, f"the tuning result {uri} is not reused (--no-reuse-tuning)", uri)
    changed = [
        what
        for what, key in (("the data", DATA_FINGERPRINT), ("the search space", SPACE_FINGERPRINT))
        if found_on.get(key) != now[key]
    ]
    if changed:
        return TuningRecord(
            None,
            None,
            f"{' and '.join(changed)} changed since the latest tuning ({uri}): flags apply; --tune tunes again",
            uri,
        )
    return TuningRecord(values, "reused", f"reusing the best hyperparameters of the latest tuning ({uri})", uri)
