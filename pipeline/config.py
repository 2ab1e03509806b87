"""Typed pipeline configuration: each component's own options, plus where the data and outputs are.

Every runner builds one `PipelineConfig` (from flags: `pipeline/cli.py`) and hands it to
`pipeline.dag.create_pipeline`, which passes each component its options. Values are checked when
the config is built, so a bad setting fails before any work starts. No side effects at import.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional, Tuple

from components.batch_prediction.options import PredictionOptions
from components.data_quality.options import QualityOptions
from components.drift.options import DriftOptions
from components.embeddings.options import EmbeddingOptions
from components.edge_export.options import EdgeOptions
from components.error_analysis.options import AnalysisOptions
from components.image_example_gen.options import IngestionLimits
from components.label_balance.options import BalanceOptions
from components.model_card.options import ModelCardOptions
from components.options import Options, require, setting
from components.promotion_gate.options import GateThresholds
from components.trainer.options import TrainingOptions
from components.trainer.options import TuningOptions
from components.transform.options import MAX_AUTO_SIZE, ImageOptions

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA_DIR = REPO_ROOT / "data" / "sample"
SCHEMA_FILE = REPO_ROOT / "schemas" / "schema.pbtxt"
SETUP_FILE = REPO_ROOT / "setup.py"
DEFAULT_PIPELINE_NAME = "image-classification"
REPORT_FILE = "report.html"  # the run report, in the output dir


@dataclasses.dataclass(frozen=True)
class DataConfig(Options):
    """Where the images are, how they are split, and the schema they are checked against."""

    data_dir: str = setting(
        str(SAMPLE_DATA_DIR),
        "folder of images: <class>/<image> or train/<class>/<image> + eval/<class>/<image>",
        default_help="the built-in sample, made on first use",
    )
    eval_fraction: float = setting(
        0.2, "share of images held out for evaluation when there are no train/ and eval/ folders"
    )
    schema_file: str = setting(
        str(SCHEMA_FILE), "the curated schema ImportSchemaGen imports", default_help="schemas/schema.pbtxt"
    )

    def __post_init__(self):
        super().__post_init__()
        require(bool(self.data_dir), "{data_dir} is empty: name a folder of class sub-folders.")
        require(
            0.0 < self.eval_fraction < 1.0,
            "{eval_fraction} {value} must be between 0 and 1 (for example 0.2).",
            value=self.eval_fraction,
        )

    @property
    def hash_buckets(self) -> Tuple[int, int]:
        """(train, eval) hash buckets out of 100 for a stable split by file path."""
        eval_buckets = max(1, min(99, round(self.eval_fraction * 100)))
        return 100 - eval_buckets, eval_buckets


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """Where outputs go and how the pipeline executes; the output dir's layout."""

    output_dir: str = "outputs"
    pipeline_name: str = DEFAULT_PIPELINE_NAME
    enable_cache: bool = True
    beam_args: Tuple[str, ...] = ()  # see pipeline/beam_packaging.py
    pipeline_root_dir: Optional[str] = None  # default <output_dir>/pipeline_root; gs:// on Kubeflow/Vertex
    serving_base_dir: Optional[str] = None  # default <output_dir>/serving
    edge_base_dir: Optional[str] = None  # default <output_dir>/edge

    def __post_init__(self):
        require(bool(self.output_dir), "{output_dir} is empty: name a folder for the run's outputs.")

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
    def edge_dir(self) -> str:
        """Where the TF Lite models of pushed models go, a folder per served version."""
        return self.edge_base_dir or os.path.join(self.output_dir, "edge")

    @property
    def summary_path(self) -> str:
        return os.path.join(self.output_dir, "run_summary.json")

    @property
    def report_path(self) -> str:
        return os.path.join(self.output_dir, REPORT_FILE)

    @property
    def beam_package_dir(self) -> str:
        """Where a local run puts this project's sdist for Beam's workers (with --beam-arg)."""
        return os.path.join(self.output_dir, "beam_package")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """The whole run: each component's options as the component defines them, passed through."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    ingestion: IngestionLimits = dataclasses.field(default_factory=IngestionLimits)
    image: ImageOptions = dataclasses.field(default_factory=ImageOptions)
    training: TrainingOptions = dataclasses.field(default_factory=TrainingOptions)
    tuning: TuningOptions = dataclasses.field(default_factory=TuningOptions)
    balance: BalanceOptions = dataclasses.field(default_factory=BalanceOptions)
    gate: GateThresholds = dataclasses.field(default_factory=GateThresholds)
    analysis: AnalysisOptions = dataclasses.field(default_factory=AnalysisOptions)
    embeddings: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)
    quality: QualityOptions = dataclasses.field(default_factory=QualityOptions)
    drift: DriftOptions = dataclasses.field(default_factory=DriftOptions)
    edge: EdgeOptions = dataclasses.field(default_factory=EdgeOptions)
    model_card: ModelCardOptions = dataclasses.field(default_factory=ModelCardOptions)
    prediction: PredictionOptions = dataclasses.field(default_factory=PredictionOptions)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)

    def __post_init__(self):
        # The one check across components: an image the Transform resizes must be one ExampleGen takes.
        size = self.image.image_size or MAX_AUTO_SIZE
        square = size * size
        require(
            self.ingestion.max_image_pixels >= square,
            "{max_image_pixels} {value} must be at least {image_size} squared ({square}).",
            value=self.ingestion.max_image_pixels,
            square=square,
        )
