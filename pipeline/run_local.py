"""Run the image-classification pipeline on this machine.

    python pipeline/run_local.py                      # the built-in sample, made on first use
    python pipeline/run_local.py --data-dir my_images --epochs 50

LocalDagRunner executes the components in order, records every artifact in an SQLite ML Metadata
store under --output-dir, and reuses results whose inputs have not changed (--no-cache to stop
that). The run ends with a short summary and <output-dir>/run_summary.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional

from components.paths import is_remote
from components.trainer.options import IMAGENET
from pipeline import cli, console, output_lock, sample_data
from pipeline.config import SAMPLE_DATA_DIR, PipelineConfig


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = cli.command_parser(
        "run_local.py",
        __doc__,
        "Outputs: <output-dir>/run_summary.json, <output-dir>/serving/<version>/ (the pushed model), "
        "<output-dir>/pipeline_root/ (every artifact), <output-dir>/metadata.sqlite (ML Metadata), "
        "<output-dir>/beam_package/ (with --beam-arg: this project as an sdist for Beam's workers).",
    )
    cli.add_arguments(parser)
    cli.add_local_arguments(parser)
    return parser.parse_args(argv)


def run(config: PipelineConfig) -> dict:
    """Runs the pipeline for `config` and writes run_summary.json; returns the summary.

    The data dir is read before anything is written; the output dir is held for this run only.
    """
    from components.image_example_gen.cache_key import preflight
    from components.image_example_gen.layout import detect_layout

    preflight(detect_layout(config.data.data_dir))  # one walk: the ExampleGen driver reuses it
    with output_lock.exclusive_output_dir(config.runtime.output_dir):
        return _run_locked(config)


def _run_locked(config: PipelineConfig) -> dict:
    # TFX's modules, not its public `tfx.v1` facade: that also imports the Google Cloud AI Platform
    # SDK, 2.5 s of every run that no local step uses.
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from pipeline import beam_packaging, dag, run_record, run_report, summary

    config = beam_packaging.package_for_beam_workers(config)
    pipeline = dag.create_pipeline(
        config, metadata_connection_config=sqlite_metadata_connection_config(config.runtime.metadata_path)
    )
    LocalDagRunner().run(pipeline)
    record = run_record.read_run(run_record.open_store(config.runtime.metadata_path), config.runtime.pipeline_name)
    artifacts = run_record.collect(record)
    report_path = config.runtime.report_path
    run_summary = summary.build_summary(record, artifacts, config.data.data_dir, report_path)
    page = run_report.render_run_report(run_summary, artifacts, config.runtime.summary_path)
    summary.write_atomically(page, report_path)
    summary.write_atomically(json.dumps(run_summary, indent=2), config.runtime.summary_path)
    return run_summary


def pretrained_weights_problem(config: PipelineConfig) -> Optional[str]:
    """Why the backbones' ImageNet weights cannot load, checked before any step runs (so an
    offline machine hears it now, not after ingestion), or None. The bundled backbone's come
    with the project, and every run needs them (the Embeddings step; the Trainer's auto choice);
    Keras' own files are fetched once here."""
    from components.backbone.efficientnet_lite import BackboneUnavailableError, weights_path

    try:
        path = weights_path()
    except BackboneUnavailableError as error:
        return str(error)
    if not os.path.isfile(path):
        return f"the EfficientNet-Lite0 ImageNet weights are missing ({path}): run `make setup`."
    from components.trainer.options import AUTO, BUNDLED_BACKBONE

    if config.training.pretrained_weights == IMAGENET and config.training.architecture not in (AUTO, BUNDLED_BACKBONE):
        from components.trainer.weights import WeightsUnavailableError, ensure_imagenet_weights

        try:
            ensure_imagenet_weights(config.training.architecture, config.image.image_size)
        except WeightsUnavailableError as error:
            return str(error)
    return None


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    args.output_dir = os.path.abspath(args.output_dir)
    args.data_dir = args.data_dir if is_remote(args.data_dir) else os.path.abspath(args.data_dir)
    try:
        config = cli.from_args(args, pipeline_root_dir=args.pipeline_root)
    except cli.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if os.path.abspath(config.data.data_dir) == str(SAMPLE_DATA_DIR):
        if sample_data.ensure_sample_dataset(SAMPLE_DATA_DIR):
            print(f"Made the built-in sample dataset in {SAMPLE_DATA_DIR}", flush=True)

    console.quiet_libraries(args.verbose, show_progress=True)
    problem = pretrained_weights_problem(config)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from components.image_example_gen.ingestion import RejectedFilesError
    from components.image_example_gen.layout import DataLayoutError
    from components.label_balance.balance import DataStopError
    from pipeline.run_record import NoRunError

    started = time.time()
    code, run_summary = console.run_explaining_errors(
        lambda: run(config),
        args.verbose,
        "the pipeline",
        errors=(DataLayoutError, NoRunError, output_lock.OutputDirError),
        stops=(DataStopError, RejectedFilesError),
    )
    if code:
        return code
    for line in console.describe(run_summary, config.runtime.summary_path):
        print(line)
    print(f"Finished in {time.time() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
