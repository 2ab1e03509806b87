"""Typed pipeline configuration: frozen dataclasses with laptop defaults, built from CLI flags.

Every runner builds one `PipelineConfig` and hands it to `pipeline.dag.create_pipeline`.
Values are validated when the config is built, so a bad setting fails before any work starts.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Optional, Sequence, Tuple

from components.image_example_gen.ingestion import DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_REJECTED_FRACTION
from components.label_balance.balance import CLASS_WEIGHTING_CHOICES, BalanceThresholds
from components.promotion_gate.gate import GateThresholds
from components.trainer.options import ARCHITECTURES, FLIP_MODES

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA_DIR = REPO_ROOT / "data" / "sample"
SCHEMA_FILE = REPO_ROOT / "schemas" / "schema.pbtxt"
SETUP_FILE = REPO_ROOT / "setup.py"
DEFAULT_PIPELINE_NAME = "image-classification"

# With no Beam options the Beam steps run on Beam's defaults: the DirectRunner with one in-process
# worker (--direct_running_mode=in_memory --direct_num_workers=1), no start-up cost, right for data
# that fits one machine. Options are left empty then on purpose: given any Beam option and none of
# BEAM_DEPENDENCY_OPTIONS, TFX copies its whole installation into an sdist for every Beam component
# (2.3 s each, about 50 MB left in the temp dir each time), a package that lacks this project's code.
BEAM_DEPENDENCY_OPTIONS = (
    "--extra_package",
    "--extra_packages",
    "--setup_file",
    "--requirements_file",
    "--worker_harness_container_image",
    "--sdk_container_image",
)


def beam_args(extra: Sequence[str] = (), setup_file: str = str(SETUP_FILE)) -> Tuple[str, ...]:
    """The Beam options of the Beam steps: none by default (Beam's in-process runner); else `extra`
    followed by `--setup_file=setup_file`, so that workers (Dataflow) install this project, unless
    `extra` already says how they get the code (an --sdk_container_image, say)."""
    if not extra:
        return ()
    given = {option.split("=", 1)[0] for option in extra}
    return tuple(extra) if given & set(BEAM_DEPENDENCY_OPTIONS) else (*extra, f"--setup_file={setup_file}")


class ConfigError(ValueError):
    """A setting that cannot work; the message names the setting and the fix."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the images are and how they become model inputs."""

    data_dir: str = str(SAMPLE_DATA_DIR)
    eval_fraction: float = 0.2  # used only when the data dir has no train/ and eval/ folders
    image_size: int = 32
    channels: int = 3
    max_rejected_fraction: float = DEFAULT_MAX_REJECTED_FRACTION  # more rejected files stop the run
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS  # larger images are rejected as decompression bombs
    schema_file: str = str(SCHEMA_FILE)  # the curated schema ImportSchemaGen imports

    def __post_init__(self):
        _require(bool(self.data_dir), "--data-dir is empty: name a folder of class sub-folders.")
        _require(
            0.0 < self.eval_fraction < 1.0,
            f"--eval-fraction {self.eval_fraction} must be between 0 and 1 (for example 0.2).",
        )
        _require(
            8 <= self.image_size <= 1024,
            f"--image-size {self.image_size} must be between 8 and 1024 pixels (for example 32).",
        )
        _require(self.channels in (1, 3), f"--channels {self.channels} must be 1 (grayscale) or 3 (RGB).")
        _require(
            0.0 <= self.max_rejected_fraction <= 1.0,
            f"--max-rejected-fraction {self.max_rejected_fraction} must be between 0 and 1 (for example 0.05).",
        )
        _require(
            self.max_image_pixels >= self.image_size * self.image_size,
            f"--max-image-pixels {self.max_image_pixels} must be at least --image-size squared "
            f"({self.image_size * self.image_size}).",
        )

    @property
    def hash_buckets(self) -> Tuple[int, int]:
        """(train, eval) hash buckets out of 100 for a stable split by file path."""
        eval_buckets = max(1, min(99, round(self.eval_fraction * 100)))
        return 100 - eval_buckets, eval_buckets


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Trainer hyperparameters."""

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    early_stopping_patience: int = 8
    architecture: str = "simple_cnn"
    augment: bool = True
    flip: str = "none"  # flipping a digit or a letter changes what it is, so flips are opt-in
    pretrained_weights: Optional[str] = None  # a local Keras weights file for the transfer backbone

    def __post_init__(self):
        _require(
            self.architecture in ARCHITECTURES,
            f"--architecture {self.architecture} must be one of: {', '.join(ARCHITECTURES)}.",
        )
        _require(self.flip in FLIP_MODES, f"--flip {self.flip} must be one of: {', '.join(FLIP_MODES)}.")
        _require(
            not self.pretrained_weights or "://" in self.pretrained_weights or os.path.isfile(self.pretrained_weights),
            f"--pretrained-weights {self.pretrained_weights} is not a file: name a Keras weights file "
            "(.h5) for the MobileNetV2 backbone, or leave it out to start from random weights.",
        )
        _require(1 <= self.epochs <= 10_000, f"--epochs {self.epochs} must be a positive number of epochs.")
        _require(
            1 <= self.batch_size <= 65_536, f"--batch-size {self.batch_size} must be a positive number of images."
        )
        _require(
            0.0 <= self.learning_rate <= 10.0,
            f"--learning-rate {self.learning_rate} must be between 0 and 10 (for example 0.001).",
        )
        _require(self.early_stopping_patience >= 1, "--early-stopping-patience must be at least 1 epoch.")


@dataclasses.dataclass(frozen=True)
class BalanceConfig:
    """When labels count as imbalanced, and what the pipeline does about it."""

    imbalance_ratio: float = BalanceThresholds.imbalance_ratio
    severe_ratio: float = BalanceThresholds.severe_ratio
    train_eval_distance: float = BalanceThresholds.train_eval_distance
    class_weights: str = "balanced"
    fail_on_imbalance: bool = False

    def __post_init__(self):
        _require(
            1.0 <= self.imbalance_ratio <= self.severe_ratio,
            f"--imbalance-ratio {self.imbalance_ratio} must be at least 1 and at most "
            f"--severe-imbalance-ratio {self.severe_ratio}.",
        )
        _require(
            0.0 <= self.train_eval_distance <= 1.0,
            f"train/eval distance threshold {self.train_eval_distance} must be between 0 and 1.",
        )
        _require(
            self.class_weights in CLASS_WEIGHTING_CHOICES,
            f"--class-weights {self.class_weights} must be one of: {', '.join(CLASS_WEIGHTING_CHOICES)}.",
        )


@dataclasses.dataclass(frozen=True)
class GateConfig:
    """When the PromotionGate blesses a candidate (components/promotion_gate/gate.py)."""

    majority_margin: float = GateThresholds.majority_margin
    chance_margin: float = GateThresholds.chance_margin
    max_regression: float = GateThresholds.max_regression

    def __post_init__(self):
        for flag, value in (
            ("--majority-margin", self.majority_margin),
            ("--chance-margin", self.chance_margin),
            ("--max-regression", self.max_regression),
        ):
            _require(0.0 <= value <= 1.0, f"{flag} {value} must be between 0 and 1.")


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """Where outputs go and how the pipeline executes."""

    output_dir: str = "outputs"
    pipeline_name: str = DEFAULT_PIPELINE_NAME
    enable_cache: bool = True
    beam_args: Tuple[str, ...] = ()  # see beam_args()
    pipeline_root_dir: Optional[str] = None  # default <output_dir>/pipeline_root; gs:// on Kubeflow/Vertex
    serving_base_dir: Optional[str] = None  # default <output_dir>/serving

    def __post_init__(self):
        _require(bool(self.output_dir), "--output-dir is empty: name a folder for the run's outputs.")

    @property
    def pipeline_root(self) -> str:
        return self.pipeline_root_dir or os.path.join(self.output_dir, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        return self.serving_base_dir or os.path.join(self.output_dir, "serving")

    @property
    def summary_path(self) -> str:
        return os.path.join(self.output_dir, "run_summary.json")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    balance: BalanceConfig = dataclasses.field(default_factory=BalanceConfig)
    gate: GateConfig = dataclasses.field(default_factory=GateConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the flags every runner shares; defaults come from the dataclasses."""
    data, training, balance = DataConfig(), TrainingConfig(), BalanceConfig()
    gate, runtime = GateConfig(), RuntimeConfig()
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data-dir",
        default=data.data_dir,
        help="folder of images: <class>/<image> or train/<class>/<image> + eval/<class>/<image> "
        "(default: the built-in sample, made on first use)",
    )
    group.add_argument(
        "--eval-fraction",
        type=float,
        default=data.eval_fraction,
        help="share of images held out for evaluation when there are no train/ and eval/ folders "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--image-size", type=int, default=data.image_size, help="images are resized to SIZE x SIZE (default: %(default)s)"
    )
    group.add_argument(
        "--channels", type=int, default=data.channels, help="1 = grayscale, 3 = RGB (default: %(default)s)"
    )
    group.add_argument(
        "--max-rejected-fraction",
        type=float,
        default=data.max_rejected_fraction,
        help="stop when more than this share of the files is rejected (unreadable, not an image, ...); "
        "every reject is listed either way (default: %(default)s)",
    )
    group.add_argument(
        "--max-image-pixels",
        type=int,
        default=data.max_image_pixels,
        help="reject images with more pixels than this (decompression bombs) (default: %(default)s)",
    )
    group.add_argument(
        "--schema-file",
        default=data.schema_file,
        help="the curated schema ImportSchemaGen imports (default: schemas/schema.pbtxt)",
    )
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=training.epochs, help="maximum epochs (default: %(default)s)")
    group.add_argument("--batch-size", type=int, default=training.batch_size, help="(default: %(default)s)")
    group.add_argument("--learning-rate", type=float, default=training.learning_rate, help="(default: %(default)s)")
    group.add_argument(
        "--architecture", choices=ARCHITECTURES, default=training.architecture, help="(default: %(default)s)"
    )
    group.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=training.augment,
        help="random rotation, zoom and contrast (and --flip) while training",
    )
    group.add_argument(
        "--flip",
        choices=tuple(FLIP_MODES),
        default=training.flip,
        help="random flips in augmentation; only where a mirrored image keeps its label (default: %(default)s)",
    )
    group.add_argument(
        "--pretrained-weights",
        default=training.pretrained_weights,
        help="local weights file for the transfer backbone (MobileNetV2, include_top=False); "
        "nothing is downloaded",
    )
    group.add_argument(
        "--early-stopping-patience",
        type=int,
        default=training.early_stopping_patience,
        help="stop after this many epochs without a lower validation loss (default: %(default)s)",
    )
    group = parser.add_argument_group("label balance")
    group.add_argument(
        "--class-weights",
        choices=CLASS_WEIGHTING_CHOICES,
        default=balance.class_weights,
        help="balanced: weight each class by n_images / (n_classes * n_class_images); none: plain loss "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--imbalance-ratio",
        type=float,
        default=balance.imbalance_ratio,
        help="largest / smallest train class at which labels count as imbalanced (default: %(default)s)",
    )
    group.add_argument(
        "--severe-imbalance-ratio",
        type=float,
        default=balance.severe_ratio,
        help="ratio at which the imbalance counts as severe (default: %(default)s)",
    )
    group.add_argument(
        "--fail-on-imbalance", action="store_true", help="stop the run, after the data report, when labels are imbalanced"
    )
    group = parser.add_argument_group("promotion")
    group.add_argument(
        "--majority-margin",
        type=float,
        default=gate.majority_margin,
        help="accuracy must beat the eval share of the largest class by this much (default: %(default)s)",
    )
    group.add_argument(
        "--chance-margin",
        type=float,
        default=gate.chance_margin,
        help="balanced accuracy must beat 1 / number of classes by this much (default: %(default)s)",
    )
    group.add_argument(
        "--max-regression",
        type=float,
        default=gate.max_regression,
        help="largest drop of accuracy or balanced accuracy tolerated against the last blessed model "
        "(default: %(default)s)",
    )
    group = parser.add_argument_group("runtime")
    group.add_argument(
        "--output-dir",
        default=runtime.output_dir,
        help="pipeline artifacts, ML Metadata, served models and run_summary.json (default: %(default)s)",
    )
    group.add_argument("--pipeline-name", default=runtime.pipeline_name, help="(default: %(default)s)")
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
    """Builds and validates the config from parsed flags; raises ConfigError on a bad value.

    `setup_file` is this project's setup.py where the Beam steps run (see `beam_args`);
    `runtime_overrides` set RuntimeConfig fields the flags do not (a runner's own locations).
    """
    return PipelineConfig(
        data=DataConfig(
            data_dir=args.data_dir,
            eval_fraction=args.eval_fraction,
            image_size=args.image_size,
            channels=args.channels,
            max_rejected_fraction=args.max_rejected_fraction,
            max_image_pixels=args.max_image_pixels,
            schema_file=args.schema_file,
        ),
        training=TrainingConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            early_stopping_patience=args.early_stopping_patience,
            architecture=args.architecture,
            augment=args.augment,
            flip=args.flip,
            pretrained_weights=args.pretrained_weights,
        ),
        balance=BalanceConfig(
            imbalance_ratio=args.imbalance_ratio,
            severe_ratio=args.severe_imbalance_ratio,
            class_weights=args.class_weights,
            fail_on_imbalance=args.fail_on_imbalance,
        ),
        gate=GateConfig(
            majority_margin=args.majority_margin,
            chance_margin=args.chance_margin,
            max_regression=args.max_regression,
        ),
        runtime=RuntimeConfig(
            output_dir=args.output_dir,
            pipeline_name=args.pipeline_name,
            enable_cache=not args.no_cache,
            beam_args=beam_args(args.beam_arg or (), setup_file),
            **runtime_overrides,
        ),
    )
