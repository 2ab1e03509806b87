"""Classify a folder of new images with a pushed model: a small TFX pipeline, on Beam.

    python pipeline/run_batch_predict.py --images new_photos/
    python pipeline/run_batch_predict.py --images gs://bucket/new --model outputs/serving/1795496095 \\
        --beam-arg=--direct_running_mode=multi_processing --beam-arg=--direct_num_workers=2

Our ImageExampleGen reads every file under --images (flat or in sub-folders; no labels) and checks
it exactly as in training: each file is predicted or listed with the reason it was not. TFX's
BulkInferrer runs the served model's serving_default signature over the examples, and
PredictionWriter writes one JSON line per image. The Beam steps take the same --beam-arg options as
training: Beam's in-process runner by default, its multi-processing runner, or Dataflow.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

from components.paths import is_remote
from pipeline import console, output_lock
from pipeline.config import SETUP_FILE, PipelineConfig, RuntimeConfig

PIPELINE_NAME = "batch-prediction"
EXAMPLE_GEN, IMPORTER, BULK_INFERRER, WRITER = "ImageExampleGen", "ModelImporter", "BulkInferrer", "PredictionWriter"
OUTPUT_FILES = ("predictions.jsonl", "rejected.jsonl", "batch_summary.json")


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    from components.image_example_gen.ingestion import IngestionLimits

    parser = argparse.ArgumentParser(
        prog="run_batch_predict.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Outputs in --output-dir: predictions.jsonl (path, class, confidence, probabilities, model_version), "
        "rejected.jsonl (path, reason), batch_summary.json (counts, class mix, drift), pipeline_root/, metadata.sqlite.",
    )
    parser.add_argument("--images", required=True, help="a folder of images (flat or nested), local or gs://")
    parser.add_argument("--model", help="a served model folder (default: the latest under --serving-dir)")
    parser.add_argument("--serving-dir", default=RuntimeConfig().serving_dir, help="(default: %(default)s)")
    parser.add_argument("--output-dir", default=os.path.join("outputs", "batch_prediction"), help="(default: %(default)s)")
    parser.add_argument(
        "--pipeline-root",
        help="where artifacts go (default: <output-dir>/pipeline_root); a gs:// path when the Beam steps run on "
        "Dataflow, whose workers must reach it. ML Metadata and the copies of the three files stay in --output-dir",
    )
    parser.add_argument(
        "--drift-threshold",
        type=float,
        default=0.1,
        help="warn when a class's share of the predictions differs from its share of the training images "
        "by more than this (default: %(default)s)",
    )
    parser.add_argument(
        "--max-rejected-fraction",
        type=float,
        default=IngestionLimits().max_rejected_fraction,
        help="stop when more than this share of the files cannot be read as images (default: %(default)s)",
    )
    parser.add_argument(
        "--beam-arg", action="append", metavar="OPTION", help="a Beam pipeline option, repeatable, as for training"
    )
    parser.add_argument("--no-cache", action="store_true", help="run every step again even when nothing changed")
    parser.add_argument("--verbose", action="store_true", help="show TFX, Beam and TensorFlow logs and tracebacks")
    return parser.parse_args(argv)


def create_batch_pipeline(images: str, model_dir: str, config: PipelineConfig, drift_threshold: float, metadata=None):
    """ImageExampleGen (unlabelled) -> ModelImporter -> BulkInferrer -> PredictionWriter."""
    from tfx.dsl.components.common.importer import Importer
    from tfx.orchestration.pipeline import Pipeline
    from tfx.proto import bulk_inferrer_pb2
    from tfx.types import standard_artifacts

    from components import features
    from components.batch_prediction.component import BulkInferrer, PredictionWriter
    from components.image_example_gen.component import unlabelled_image_example_gen

    example_gen = unlabelled_image_example_gen(images, config.ingestion).with_id(EXAMPLE_GEN)
    model = Importer(source_uri=model_dir, artifact_type=standard_artifacts.Model).with_id(IMPORTER)
    inferrer = BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=model.outputs["result"],
        data_spec=bulk_inferrer_pb2.DataSpec(),
        model_spec=bulk_inferrer_pb2.ModelSpec(model_signature_name=[features.SERVING_SIGNATURE]),
    ).with_id(BULK_INFERRER)
    writer = PredictionWriter(
        inference_result=inferrer.outputs["inference_result"],
        examples=example_gen.outputs["examples"],
        model=model.outputs["result"],
        images_root=images,
        drift_threshold=drift_threshold,
    ).with_id(WRITER)
    return Pipeline(
        pipeline_name=config.runtime.pipeline_name,
        pipeline_root=config.runtime.pipeline_root,
        components=[example_gen, model, inferrer, writer],
        enable_cache=config.runtime.enable_cache,
        metadata_connection_config=metadata,
        beam_pipeline_args=list(config.runtime.beam_args),
    )


def run(images: str, model_dir: str, config: PipelineConfig, drift_threshold: float) -> dict:
    """Runs the batch pipeline; copies its files into the output dir; returns batch_summary.json."""
    import tensorflow as tf
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from components import artifacts
    from pipeline import beam_packaging, run_record

    with output_lock.exclusive_output_dir(config.runtime.output_dir):
        config = beam_packaging.package_for_beam_workers(config)
        metadata = sqlite_metadata_connection_config(config.runtime.metadata_path)
        LocalDagRunner().run(create_batch_pipeline(images, model_dir, config, drift_threshold, metadata))
        record = run_record.read_run(run_record.open_store(config.runtime.metadata_path), config.runtime.pipeline_name)
        written = record.artifact(WRITER, "predictions")
        for name in OUTPUT_FILES:
            tf.io.gfile.copy(os.path.join(written.uri, name), os.path.join(config.runtime.output_dir, name), overwrite=True)
        return artifacts.read_json(written.uri, artifacts.BATCH_SUMMARY_FILE)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    args.output_dir = os.path.abspath(args.output_dir)
    images = args.images if is_remote(args.images) else os.path.abspath(args.images)
    console.quiet_libraries(args.verbose, show_progress=True)
    if not args.verbose:  # tfx_bsl's RunInference says so on the root logger, on every machine
        logging.getLogger().addFilter(lambda record: "Resource module is not available" not in record.getMessage())
    import tensorflow as tf

    from components.image_example_gen.ingestion import IngestionLimits, RejectedFilesError
    from components.image_example_gen.layout import DataLayoutError, unlabelled_layout
    from components.options import OptionError
    from pipeline import beam_packaging
    from pipeline.predict import served_model

    model_dir = served_model(args.model, args.serving_dir)
    if model_dir is None:
        return 2
    if not tf.io.gfile.exists(os.path.join(model_dir, "assets.extra", "class_names.json")):
        print(f"error: {model_dir} has no assets.extra/class_names.json: it was not exported by this pipeline.", file=sys.stderr)
        return 2
    model_dir = model_dir if is_remote(model_dir) else os.path.abspath(model_dir)
    try:
        unlabelled_layout(images)
        if not tf.io.gfile.listdir(images):
            raise DataLayoutError(f"Image folder {images} is empty: nothing to predict.")
        config = PipelineConfig(
            ingestion=IngestionLimits(max_rejected_fraction=args.max_rejected_fraction),
            runtime=RuntimeConfig(
                output_dir=args.output_dir,
                pipeline_name=PIPELINE_NAME,
                enable_cache=not args.no_cache,
                pipeline_root_dir=args.pipeline_root,
                beam_args=beam_packaging.beam_args(args.beam_arg or (), str(SETUP_FILE)),
            ),
        )
        summary = run(images, model_dir, config, args.drift_threshold)
    except (DataLayoutError, OptionError, output_lock.OutputDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RejectedFilesError as error:
        print(f"stopped: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one readable line instead of a TFX traceback
        if args.verbose:
            raise
        print(f"error: batch prediction failed: {type(error).__name__}: {error}", file=sys.stderr)
        print("Run again with --verbose for the full logs and traceback.", file=sys.stderr)
        return 1
    for line in summary["lines"]:
        print(line)
    for name in OUTPUT_FILES:
        print(f"{name}: {os.path.join(args.output_dir, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
