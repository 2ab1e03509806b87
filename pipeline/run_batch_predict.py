"""Classify a folder of new images with a pushed model: a small TFX pipeline, on Beam.

    python pipeline/run_batch_predict.py --images new_photos/
    python pipeline/run_batch_predict.py --images gs://bucket/new --model outputs/serving/1795496095 \\
        --beam-arg=--direct_running_mode=multi_processing --beam-arg=--direct_num_workers=2

Our ImageExampleGen reads every file under --images (flat or in sub-folders; no labels) and checks
it exactly as in training: each file is predicted or listed with the reason it was not. TFX's
BulkInferrer runs the served model's serving_default signature over the examples, and
PredictionWriter writes one JSON line per image. The Beam steps take the same --beam-arg options as
training: Beam's in-process runner by default, its multi-processing runner, or Dataflow. The DAG
is pipeline/batch_dag.py.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

from components.batch_prediction.options import PredictionOptions
from components.image_example_gen.options import IngestionLimits
from components.paths import is_remote
from pipeline import cli, console, output_lock
from pipeline.config import PipelineConfig, RuntimeConfig

DEFAULTS = RuntimeConfig(output_dir=os.path.join("outputs", "batch_prediction"), pipeline_name="batch-prediction")


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = cli.command_parser(
        "run_batch_predict.py",
        __doc__,
        "Outputs in --output-dir: predictions.jsonl (path, class, confidence, probabilities, model_version), "
        "rejected.jsonl (path, reason), batch_summary.json (counts, class mix, drift), pipeline_root/, metadata.sqlite.",
    )
    parser.add_argument("--images", required=True, help="a folder of images (flat or nested), local or gs://")
    parser.add_argument("--model", help="a served model folder (default: the latest under --serving-dir)")
    parser.add_argument("--serving-dir", default=RuntimeConfig().serving_dir, help="(default: %(default)s)")
    group = parser.add_argument_group("prediction")
    cli.add_option_flags(group, IngestionLimits, only=["max_rejected_fraction"])
    cli.add_option_flags(group, PredictionOptions)
    cli.add_runtime_arguments(parser, DEFAULTS)
    cli.add_local_arguments(parser)
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> PipelineConfig:
    """The batch run's config from its flags; raises cli.ConfigError naming the flag."""
    return cli.checked(
        lambda: PipelineConfig(
            ingestion=IngestionLimits(max_rejected_fraction=args.max_rejected_fraction),
            prediction=PredictionOptions(drift_threshold=args.drift_threshold),
            runtime=cli.runtime_from(args, pipeline_root_dir=args.pipeline_root),
        )
    )


def run(images: str, model_dir: str, config: PipelineConfig):
    """Runs the batch pipeline; copies its files into the output dir; returns its BatchSummary."""
    import tensorflow as tf
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from components import artifacts
    from components.contracts import record
    from components.contracts.prediction import BatchSummary
    from pipeline import batch_dag, beam_packaging, run_record

    with output_lock.exclusive_output_dir(config.runtime.output_dir):
        config = beam_packaging.package_for_beam_workers(config)
        metadata = sqlite_metadata_connection_config(config.runtime.metadata_path)
        LocalDagRunner().run(batch_dag.create_batch_pipeline(images, model_dir, config, metadata))
        store = run_record.open_store(config.runtime.metadata_path)
        written = run_record.read_run(store, config.runtime.pipeline_name).artifact(batch_dag.WRITER, "predictions")
        for name in artifacts.BATCH_OUTPUT_FILES:
            tf.io.gfile.copy(os.path.join(written.uri, name), os.path.join(config.runtime.output_dir, name), overwrite=True)
        return record.read(BatchSummary, written.uri)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    args.output_dir = os.path.abspath(args.output_dir)
    images = args.images if is_remote(args.images) else os.path.abspath(args.images)
    try:
        config = config_from(args)
    except cli.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    console.quiet_libraries(args.verbose, show_progress=True)
    if not args.verbose:  # tfx_bsl's RunInference says so on the root logger, on every machine
        logging.getLogger().addFilter(lambda record: "Resource module is not available" not in record.getMessage())
    import tensorflow as tf

    from components import artifacts
    from components.image_example_gen.ingestion import RejectedFilesError
    from components.image_example_gen.layout import DataLayoutError, unlabelled_layout
    from pipeline.predict import served_model

    model_dir = served_model(args.model, args.serving_dir)
    if model_dir is None:
        return 2
    class_names = os.path.join(artifacts.SERVING_EXTRA_DIR, artifacts.CLASS_NAMES_FILE)
    if not tf.io.gfile.exists(os.path.join(model_dir, class_names)):
        print(f"error: {model_dir} has no {class_names}: it was not exported by this pipeline.", file=sys.stderr)
        return 2
    model_dir = model_dir if is_remote(model_dir) else os.path.abspath(model_dir)

    def predict():
        unlabelled_layout(images)
        if not tf.io.gfile.listdir(images):
            raise DataLayoutError(f"Image folder {images} is empty: nothing to predict.")
        return run(images, model_dir, config)

    code, summary = console.run_explaining_errors(
        predict,
        args.verbose,
        "batch prediction",
        errors=(DataLayoutError, output_lock.OutputDirError),
        stops=(RejectedFilesError,),
    )
    if code:
        return code
    for line in summary.lines:
        print(line)
    for name in artifacts.BATCH_OUTPUT_FILES:
        print(f"{name}: {os.path.join(args.output_dir, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
