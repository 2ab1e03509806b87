"""The flags every runner shares, and the PipelineConfig they make.

Defaults come from the options dataclasses themselves, so a flag's default cannot drift from the
component's. A bad value becomes one ConfigError line that names the flag.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Callable, Type, TypeVar

from components.image_example_gen.ingestion import IngestionLimits
from components.label_balance.balance import IMBALANCE_STRATEGIES, BalanceOptions
from components.options import OptionError
from components.data_quality.checks import QualityOptions
from components.edge_export.options import EdgeOptions
from components.error_analysis.options import AnalysisOptions
from components.promotion_gate.gate import GateThresholds
from components.trainer.options import ARCHITECTURES, CHECKPOINT_METRICS, FLIP_MODES, TrainingOptions
from components.transform.options import ImageOptions
from components.tuner.search_space import TuningOptions
from pipeline import beam_packaging
from pipeline.config import SETUP_FILE, DataConfig, PipelineConfig, RuntimeConfig

T = TypeVar("T")

# Options fields whose flag is not --<field-name-with-dashes>.
_FLAGS = {"severe_ratio": "--severe-imbalance-ratio"}
# The flag --imbalance-strategy replaced, still taken: its value -> the strategy it meant.
_CLASS_WEIGHTS_FLAG = {"balanced": "class_weights", "none": "none"}
# Options fields no flag sets (they keep their default), as an error message names them.
_WITHOUT_FLAG = {"train_eval_distance": "train/eval distance threshold"}


class ConfigError(ValueError):
    """A setting that cannot work; the message names the flag and the fix."""


def flag(setting: str) -> str:
    """The command-line spelling of an options field."""
    return _WITHOUT_FLAG.get(setting) or _FLAGS.get(setting, "--" + setting.replace("_", "-"))


def _from_flags(cls: Type[T], args: argparse.Namespace) -> T:
    """The options dataclass `cls` with each field set from its flag."""
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in _WITHOUT_FLAG:
            values[field.name] = getattr(args, flag(field.name)[2:].replace("-", "_"))
    return cls(**values)


def _checked(make: Callable[[], T]) -> T:
    try:
        return make()
    except OptionError as error:
        raise ConfigError(error.spelled(flag)) from error


def _add(group, options, setting: str, help: str, **kwargs) -> None:
    """The flag of `options`' field `setting`, defaulting to the field's value; numbers are typed
    by their default (0.05 takes floats, 32 ints)."""
    default = getattr(options, setting)
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        kwargs.setdefault("type", type(default))
    group.add_argument(flag(setting), default=default, help=help, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the flags every runner shares; defaults come from the options dataclasses."""
    data, ingestion, image, training = DataConfig(), IngestionLimits(), ImageOptions(), TrainingOptions()
    balance, gate, runtime, tuning = BalanceOptions(), GateThresholds(), RuntimeConfig(), TuningOptions()
    analysis, quality = AnalysisOptions(), QualityOptions()
    group = parser.add_argument_group("data")
    _add(
        group, data, "data_dir",
        "folder of images: <class>/<image> or train/<class>/<image> + eval/<class>/<image> "
        "(default: the built-in sample, made on first use)",
    )  # fmt: skip
    _add(
        group, data, "eval_fraction",
        "share of images held out for evaluation when there are no train/ and eval/ folders (default: %(default)s)",
    )  # fmt: skip
    _add(group, image, "image_size", "images are resized to SIZE x SIZE (default: %(default)s)")
    _add(group, image, "channels", "1 = grayscale, 3 = RGB (default: %(default)s)")
    _add(
        group, ingestion, "max_rejected_fraction",
        "stop when more than this share of the files is rejected (unreadable, not an image, ...); "
        "every reject is listed either way (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, ingestion, "drop_duplicates",
        "keep one image of each group with the same pixels and class, listing the others as dropped "
        "(a group spanning classes is kept whole)",
        action="store_true",
    )  # fmt: skip
    _add(
        group, ingestion, "max_image_pixels",
        "reject images with more pixels than this (decompression bombs) (default: %(default)s)",
    )  # fmt: skip
    _add(group, data, "schema_file", "the curated schema ImportSchemaGen imports (default: schemas/schema.pbtxt)")
    group = parser.add_argument_group("training")
    _add(group, training, "epochs", "maximum epochs (default: %(default)s)")
    _add(group, training, "batch_size", "(default: %(default)s)")
    _add(group, training, "learning_rate", "(default: %(default)s)")
    _add(
        group, training, "architecture",
        "from scratch: simple_cnn, deeper_cnn, resnet_small; on a backbone: mobilenet_v2, efficientnet_b0 "
        "(transfer = mobilenet_v2) (default: %(default)s)",
        choices=ARCHITECTURES,
    )  # fmt: skip
    _add(
        group, training, "augment", "random rotation, zoom and contrast (and --flip) while training",
        action=argparse.BooleanOptionalAction,
    )  # fmt: skip
    _add(
        group, training, "flip",
        "random flips in augmentation; only where a mirrored image keeps its label (default: %(default)s)",
        choices=tuple(FLIP_MODES),
    )  # fmt: skip
    _add(
        group, training, "pretrained_weights",
        "the backbone's starting weights: imagenet (Keras downloads the official file once into its cache, "
        "~/.keras/models) or a local Keras weights file (include_top=False) (default: random)",
    )  # fmt: skip
    _add(
        group, training, "checkpoint_metric",
        "validation metric that picks the kept epoch (best_model.keras) and stops training "
        "(default: balanced_accuracy when LabelBalance finds the labels imbalanced, else accuracy)",
        choices=CHECKPOINT_METRICS,
    )  # fmt: skip
    _add(group, training, "dropout", "dropout before the classification layer (default: the architecture's own)", type=float)
    _add(
        group, training, "augment_strength",
        "scales the random rotation, zoom and contrast; 0 keeps only --flip (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, training, "early_stopping_patience",
        "stop after this many epochs without a better checkpoint metric (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, training, "cache_budget_mb",
        "memory for decoded train and eval images: within it they are decoded once and kept, above it "
        "streamed from disk and decoded each epoch; 0 always streams (default: a tenth of the memory "
        "of the machine the Trainer runs on)",
        type=int,
    )  # fmt: skip
    group = parser.add_argument_group("tuning")
    _add(
        group, tuning, "tune",
        "add TFX's Tuner before the Trainer: a random search over architecture, learning rate, dropout, "
        "batch size, augmentation strength and imbalance strategy, on validation balanced accuracy",
        action="store_true",
    )  # fmt: skip
    _add(group, tuning, "tune_trials", "models the search trains (default: %(default)s)")
    _add(group, tuning, "tune_epochs", "epochs per trial (default: %(default)s)")
    _add(
        group, tuning, "reuse_tuning",
        "without --tune, train with the best hyperparameters of the latest tuning in this output dir "
        "while the data and the search space are unchanged (default: on)",
        action=argparse.BooleanOptionalAction,
    )  # fmt: skip
    group = parser.add_argument_group("label balance")
    _add(
        group, balance, "imbalance_strategy",
        "how training counters imbalanced labels: class_weights weighs each class by n_images / "
        "(n_classes * n_class_images) in the loss; oversample draws training batches with equal class "
        "probability; none does nothing (default: %(default)s)",
        choices=IMBALANCE_STRATEGIES,
    )  # fmt: skip
    group.add_argument(
        "--class-weights", choices=tuple(_CLASS_WEIGHTS_FLAG), help="deprecated: --imbalance-strategy class_weights / none"
    )
    _add(
        group, balance, "imbalance_ratio",
        "largest / smallest train class at which labels count as imbalanced (default: %(default)s)",
    )  # fmt: skip
    _add(group, balance, "severe_ratio", "ratio at which the imbalance counts as severe (default: %(default)s)")
    _add(
        group, balance, "fail_on_imbalance", "stop the run, after the data report, when labels are imbalanced",
        action="store_true",
    )  # fmt: skip
    _add(
        group, balance, "fail_on_leakage",
        "stop the run, after the data report, when eval images also appear in train (the same picture or a near copy)",
        action="store_true",
    )  # fmt: skip
    group = parser.add_argument_group("promotion")
    _add(
        group, gate, "majority_margin",
        "accuracy must beat the eval share of the largest class by this much (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, gate, "chance_margin",
        "balanced accuracy must beat 1 / number of classes by this much (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, gate, "max_regression",
        "largest drop of accuracy or balanced accuracy tolerated against the last blessed model "
        "(default: %(default)s)",
    )  # fmt: skip
    group = parser.add_argument_group("data quality (duplicates, leaks, odd images)")
    _add(
        group, quality, "near_constant_contrast",
        "an image whose luminance standard deviation (0-1) is below this is near-constant (default: %(default)s)",
    )  # fmt: skip
    _add(group, quality, "max_aspect_ratio", "longer / shorter side above which an image is odd (default: %(default)s)")
    _add(
        group, quality, "blur_fraction",
        "an image whose sharpness is below this share of its class's median is called blurry (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, quality, "near_duplicate_bits",
        "two images are compared pixel by pixel when their perceptual hashes (or one's and the other's "
        "5%% crop hashes) are at most this many bits apart (default: %(default)s)",
    )  # fmt: skip
    _add(
        group, quality, "near_duplicate_difference",
        "largest difference of two such images, aligned on their best crop (98th percentile of the absolute "
        "difference in standard deviations), that still makes them near duplicates (default: %(default)s)",
    )  # fmt: skip
    group = parser.add_argument_group("error analysis (the report's images of mistakes)")
    _add(group, analysis, "top_losses", "eval images with the highest loss shown, with heatmaps (default: %(default)s)")
    _add(group, analysis, "confused_pairs", "most frequent (actual, predicted) pairs shown (default: %(default)s)")
    _add(group, analysis, "images_per_pair", "images shown for each of those pairs (default: %(default)s)")
    edge = EdgeOptions()
    group = parser.add_argument_group("edge models (TF Lite, after a push)")
    group.add_argument(
        "--no-edge-export", dest="edge_export", action="store_false", help="write no TF Lite models of the pushed model"
    )
    _add(
        group, edge, "min_int8_agreement",
        "the int8 model is published only when its top class is the SavedModel's on at least this share "
        "of eval images (default: %(default)s)",
    )  # fmt: skip
    _add(group, edge, "parity_images", "eval images the TF Lite models are checked on (default: %(default)s)")
    _add(
        group, edge, "representative_images",
        "train images that calibrate the int8 model's value ranges (default: %(default)s)",
    )  # fmt: skip
    group = parser.add_argument_group("runtime")
    _add(
        group, runtime, "output_dir",
        "pipeline artifacts, ML Metadata, served models and run_summary.json (default: %(default)s)",
    )  # fmt: skip
    _add(group, runtime, "pipeline_name", "(default: %(default)s)")
    group.add_argument(
        "--beam-arg",
        action="append",
        metavar="OPTION",
        help="a Beam pipeline option for the data steps, repeatable; write it with '=': "
        "--beam-arg=--direct_running_mode=multi_processing --beam-arg=--direct_num_workers=4, or "
        "--beam-arg=--runner=DataflowRunner …; this project's setup.py goes with them unless an option "
        "ships the code (--sdk_container_image, --extra_package) (default: none, one in-process worker)",
    )
    group.add_argument(
        "--no-cache", action="store_true", help="re-run every component even when its inputs have not changed"
    )


def from_args(args: argparse.Namespace, setup_file: str = str(SETUP_FILE), **runtime_overrides) -> PipelineConfig:
    """Builds and checks the config from parsed flags; raises ConfigError naming the flag.

    `setup_file` is this project's setup.py where the Beam steps run (see `beam_packaging`);
    `runtime_overrides` set RuntimeConfig fields the flags do not (a runner's own locations).
    """
    if getattr(args, "class_weights", None):
        strategy = _CLASS_WEIGHTS_FLAG[args.class_weights]
        if args.imbalance_strategy not in (BalanceOptions().imbalance_strategy, strategy):
            raise ConfigError(
                f"--class-weights {args.class_weights} contradicts --imbalance-strategy {args.imbalance_strategy}: "
                "--class-weights is deprecated, give --imbalance-strategy only."
            )
        print(f"warning: --class-weights is deprecated; use --imbalance-strategy {strategy}.", file=sys.stderr)
        args = argparse.Namespace(**{**vars(args), "imbalance_strategy": strategy})
    return _checked(
        lambda: PipelineConfig(
            data=_from_flags(DataConfig, args),
            ingestion=_from_flags(IngestionLimits, args),
            image=_from_flags(ImageOptions, args),
            training=_from_flags(TrainingOptions, args),
            tuning=_from_flags(TuningOptions, args),
            balance=_from_flags(BalanceOptions, args),
            gate=_from_flags(GateThresholds, args),
            analysis=_from_flags(AnalysisOptions, args),
            quality=_from_flags(QualityOptions, args),
            edge=_from_flags(EdgeOptions, args),
            runtime=RuntimeConfig(
                output_dir=args.output_dir,
                pipeline_name=args.pipeline_name,
                enable_cache=not args.no_cache,
                beam_args=beam_packaging.beam_args(args.beam_arg or (), setup_file),
                **runtime_overrides,
            ),
        )
    )
