"""Run the image-classification pipeline on this machine.

    python pipeline/run_local.py                      # the built-in sample, made on first use
    python pipeline/run_local.py --data-dir my_images --epochs 50

LocalDagRunner executes the components in order, records every artifact in an SQLite ML Metadata
store under --output-dir, and reuses results whose inputs have not changed (--no-cache to stop
that). The run ends with a short summary and <output-dir>/run_summary.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from typing import List, Optional

from pipeline import config as config_lib
from pipeline import console, output_lock, sample_data


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_local.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Outputs: <output-dir>/run_summary.json, <output-dir>/serving/<version>/ (the pushed model), "
        "<output-dir>/pipeline_root/ (every artifact), <output-dir>/metadata.sqlite (ML Metadata), "
        "<output-dir>/beam_package/ (with --beam-arg: this project as an sdist for Beam's workers).",
    )
    config_lib.add_arguments(parser)
    parser.add_argument(
        "--pipeline-root",
        help="where artifacts go (default: <output-dir>/pipeline_root); a gs:// path when the Beam steps "
        "run on Dataflow, whose workers must reach it. ML Metadata and the summary stay in --output-dir",
    )
    parser.add_argument("--verbose", action="store_true", help="show TFX, Beam and TensorFlow logs and tracebacks")
    return parser.parse_args(argv)


def run(config: config_lib.PipelineConfig) -> dict:
    """Runs the pipeline for `config` and writes run_summary.json; returns the summary.

    The data dir is read before anything is written; the output dir is held for this run only.
    """
    from components.image_example_gen.inventory import take_inventory
    from components.image_example_gen.layout import check_every_class_has_images, detect_layout

    layout = detect_layout(config.data.data_dir)
    check_every_class_has_images(layout, take_inventory(layout))
    with output_lock.exclusive_output_dir(config.runtime.output_dir):
        return _run_locked(config)


def package_for_beam_workers(config: config_lib.PipelineConfig) -> config_lib.PipelineConfig:
    """`config` with its `--setup_file` Beam option (see config.beam_args) replaced by an sdist of
    this project built once, as `--extra_package`: given a setup file, Beam builds the package
    again in every Beam pipeline it starts, two per Beam step, and prints the build's output."""
    setup_option = f"--setup_file={config_lib.SETUP_FILE}"
    if setup_option not in config.runtime.beam_args:
        return config
    folder = os.path.join(config.runtime.output_dir, "beam_package")
    shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--outdir", folder, str(config_lib.REPO_ROOT)]
    built = subprocess.run(command, capture_output=True, text=True)
    packages = glob.glob(os.path.join(folder, "*.tar.gz"))
    if built.returncode or len(packages) != 1:
        last = (built.stderr.strip().splitlines() or ["no package written"])[-1]
        raise RuntimeError(f"packaging this project for the Beam workers failed ({' '.join(command)}): {last}")
    beam_args = tuple(f"--extra_package={packages[0]}" if arg == setup_option else arg for arg in config.runtime.beam_args)
    return dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, beam_args=beam_args))


def _run_locked(config: config_lib.PipelineConfig) -> dict:
    # TFX's modules, not its public `tfx.v1` facade: that also imports the Google Cloud AI Platform
    # SDK, 2.5 s of every run that no local step uses.
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from pipeline import dag, run_report, summary

    config = package_for_beam_workers(config)
    pipeline = dag.create_pipeline(
        config, metadata_connection_config=sqlite_metadata_connection_config(config.runtime.metadata_path)
    )
    LocalDagRunner().run(pipeline)
    record = summary.read_run(summary.open_store(config.runtime.metadata_path), config.runtime.pipeline_name)
    artifacts = summary.collect(record)
    report_path = os.path.join(config.runtime.output_dir, run_report.REPORT_FILE)
    run_summary = summary.build_summary(record, artifacts, config.data.data_dir, report_path)
    page = run_report.render_run_report(run_summary, artifacts, config.runtime.summary_path)
    summary.write_atomically(page, report_path)
    summary.write_atomically(json.dumps(run_summary, indent=2), config.runtime.summary_path)
    return run_summary


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    args.output_dir = os.path.abspath(args.output_dir)
    args.data_dir = os.path.abspath(args.data_dir) if "://" not in args.data_dir else args.data_dir
    try:
        config = config_lib.from_args(args, pipeline_root_dir=args.pipeline_root)
    except config_lib.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if os.path.abspath(config.data.data_dir) == str(config_lib.SAMPLE_DATA_DIR):
        if sample_data.ensure_sample_dataset(config_lib.SAMPLE_DATA_DIR):
            print(f"Made the built-in sample dataset in {config_lib.SAMPLE_DATA_DIR}", flush=True)

    console.quiet_libraries(args.verbose, show_progress=True)
    from components.image_example_gen.ingestion import RejectedFilesError
    from components.image_example_gen.layout import DataLayoutError
    from components.label_balance.balance import ImbalanceError
    from pipeline import summary

    started = time.time()
    try:
        run_summary = run(config)
    except (DataLayoutError, summary.NoRunError, output_lock.OutputDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ImbalanceError, RejectedFilesError) as error:
        print(f"stopped: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish; finished steps come from the cache.", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one readable line instead of a TFX traceback
        if args.verbose:
            raise
        print(f"error: the pipeline failed: {type(error).__name__}: {error}", file=sys.stderr)
        print("Run again with --verbose for the full logs and traceback.", file=sys.stderr)
        return 1
    for line in summary.describe(run_summary, config.runtime.summary_path):
        print(line)
    print(f"Finished in {time.time() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
