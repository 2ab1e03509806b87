"""Compile the pipeline for Kubeflow Pipelines v2 or Vertex AI Pipelines, and optionally submit it.

    python pipeline/run_kubeflow.py --output-file pipeline.json \\
        --image us-docker.pkg.dev/my-project/pipelines/image-pipeline:1 \\
        --pipeline-root gs://my-bucket/image-pipeline --data-root gs://my-bucket/images
    python pipeline/run_kubeflow.py … --submit --project my-project --region us-central1   # Vertex AI
    python pipeline/run_kubeflow.py … --submit --kfp-host https://kfp.example.com          # Kubeflow

The same `create_pipeline(config)` as the local runner, compiled with KubeflowV2DagRunner into a
pipeline spec (JSON, or YAML when --output-file ends in .yaml/.yml) that both Kubeflow Pipelines
v2 and Vertex AI Pipelines accept. Nothing is read from the data when compiling. A run can be
started with other values of the runtime parameters: data_root, majority_margin, chance_margin and
max_regression.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Dict, List, Optional

from pipeline import cli, console
from pipeline.config import PipelineConfig

IMAGE_PROJECT_ROOT = "/pipeline"  # where the Dockerfile puts the project inside the image
IMAGE_SCHEMA_FILE = f"{IMAGE_PROJECT_ROOT}/schemas/schema.pbtxt"
IMAGE_SETUP_FILE = f"{IMAGE_PROJECT_ROOT}/setup.py"
# Local runs' flags (DataConfig fields) that a cluster run takes in another form.
LOCAL_ONLY = {"data_dir": "--data-dir", "schema_file": "--schema-file"}
CLUSTER_FLAGS = {
    "data_dir": "--data-root, the image folders where the cluster reads them (gs://…)",
    "schema_file": "--image-schema-file, the schema's path inside the container image or a gs:// URI",
}


class SubmitError(RuntimeError):
    """Submitting failed for a reason outside the pipeline (credentials, network, permissions)."""


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = cli.command_parser("run_kubeflow.py", __doc__)
    group = parser.add_argument_group("Kubeflow / Vertex AI")
    group.add_argument("--output-file", default="pipeline.json", help="pipeline spec to write (default: %(default)s)")
    group.add_argument("--image", required=True, help="container image with this project installed (see Dockerfile)")
    group.add_argument(
        "--pipeline-root", required=True, help="where the orchestrator keeps artifacts, e.g. gs://bucket/image-pipeline"
    )
    group.add_argument(
        "--data-root",
        required=True,
        help="image folders, e.g. gs://bucket/images: the default of the data_root runtime parameter",
    )
    group.add_argument("--serving-dir", help="where blessed models are pushed (default: <pipeline-root>/serving)")
    group.add_argument("--edge-dir", help="where their TF Lite models go (default: <pipeline-root>/edge)")
    group.add_argument(
        "--image-schema-file",
        default=IMAGE_SCHEMA_FILE,
        help="the schema's path inside the image, or a gs:// URI (default: %(default)s)",
    )
    group.add_argument("--submit", action="store_true", help="submit a run after compiling")
    group.add_argument("--project", help="Google Cloud project: submit to Vertex AI Pipelines")
    group.add_argument("--region", default="us-central1", help="Vertex AI region (default: %(default)s)")
    group.add_argument("--service-account", help="service account the Vertex AI run uses")
    group.add_argument("--kfp-host", help="Kubeflow Pipelines endpoint: submit there instead of Vertex AI")
    group.add_argument("--experiment", help="Kubeflow Pipelines experiment name")
    cli.add_arguments(parser, without=tuple(LOCAL_ONLY))
    for option in LOCAL_ONLY.values():  # taken only to be refused with a line that says what to give
        parser.add_argument(option, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="show library logs and tracebacks")
    args = parser.parse_args(argv)
    if args.submit and not (args.project or args.kfp_host):
        parser.error("--submit needs --project (Vertex AI Pipelines) or --kfp-host (Kubeflow Pipelines)")
    return args


def build_config(args: argparse.Namespace) -> PipelineConfig:
    """The pipeline config for a cluster run: remote locations replace the local output dir."""
    for setting, option in LOCAL_ONLY.items():
        if getattr(args, setting) is not None:
            raise cli.ConfigError(
                f"{option} is for local runs: on Kubeflow and Vertex AI give {CLUSTER_FLAGS[setting]}."
            )
    args = argparse.Namespace(**{**vars(args), "data_dir": args.data_root, "schema_file": args.image_schema_file})
    pipeline_root = args.pipeline_root.rstrip("/")
    return cli.from_args(
        args,
        setup_file=IMAGE_SETUP_FILE,
        pipeline_root_dir=pipeline_root,
        serving_base_dir=args.serving_dir or f"{pipeline_root}/serving",
        edge_base_dir=args.edge_dir or f"{pipeline_root}/edge",
    )


def compile_pipeline(config: PipelineConfig, image: str, output_file: str) -> Dict:
    """Writes the pipeline spec to `output_file` (JSON, or YAML by extension); returns the job dict.

    The JSON is a PipelineJob (pipelineSpec plus runtimeConfig); the YAML is the bare PipelineSpec,
    as the KFP SDK writes it. Both carry the runtime parameters' defaults in the spec itself.
    """
    import tensorflow as tf
    import yaml
    from tfx.orchestration.data_types import RuntimeParameter
    from tfx.orchestration.kubeflow.v2.kubeflow_v2_dag_runner import KubeflowV2DagRunner, KubeflowV2DagRunnerConfig

    from pipeline import dag

    defaults = dag.runtime_parameter_defaults(config)
    parameters = {
        name: RuntimeParameter(name=name, ptype=ptype, default=defaults[name])
        for name, ptype in dag.RUNTIME_PARAMETERS.items()
    }
    # KubeflowV2DagRunner compiles only TFX's own resolver strategies.
    pipeline = dag.create_pipeline(config, runtime_parameters=parameters, compiled_resolvers=True)
    runner = KubeflowV2DagRunner(
        # Schema 2.1 (typed parameters with defaults) is what the KFP v2 SDK writes; Vertex reads both.
        config=KubeflowV2DagRunnerConfig(default_image=image, use_pipeline_spec_2_1=True)
    )
    job = runner.run(pipeline, parameter_values=defaults, write_out=False)
    for name, spec in job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"].items():
        spec["defaultValue"] = defaults[name]
    if output_file.endswith((".yaml", ".yml")):
        text = yaml.safe_dump(job["pipelineSpec"], sort_keys=True)
    else:
        text = json.dumps(job, indent=2, sort_keys=True)
    parent = os.path.dirname(output_file)
    if parent:
        tf.io.gfile.makedirs(parent)
    with tf.io.gfile.GFile(output_file, "w") as f:
        f.write(text)
    return job


def submit_vertex(output_file: str, config: PipelineConfig, args: argparse.Namespace) -> str:
    """Starts a Vertex AI Pipelines run; returns its resource name."""
    import google.auth.exceptions
    from google.api_core import exceptions as api_exceptions
    from google.cloud import aiplatform

    try:
        job = aiplatform.PipelineJob(
            display_name=config.runtime.pipeline_name,
            template_path=output_file,
            pipeline_root=config.runtime.pipeline_root,
            project=args.project,
            location=args.region,
            enable_caching=config.runtime.enable_cache,
        )
        job.submit(service_account=args.service_account)
    except google.auth.exceptions.DefaultCredentialsError as error:
        raise SubmitError(
            "No Google Cloud credentials found: run `gcloud auth application-default login`, or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file. The pipeline spec was written "
            f"to {output_file}. ({_first_line(error)})"
        ) from error
    except (api_exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError, OSError) as error:
        raise SubmitError(
            f"Vertex AI refused or could not be reached ({type(error).__name__}: {_first_line(error)}). "
            f"Check --project {args.project}, --region {args.region}, the network and your permissions; "
            f"the pipeline spec is in {output_file}."
        ) from error
    return job.resource_name


def submit_kfp(job: Dict, config: PipelineConfig, args: argparse.Namespace) -> str:
    """Starts a Kubeflow Pipelines run from the compiled spec; returns its run id."""
    import kfp

    with tempfile.TemporaryDirectory() as tmp:
        package = os.path.join(tmp, "pipeline.yaml")  # kfp.Client reads a bare PipelineSpec as YAML
        with open(package, "w") as f:
            json.dump(job["pipelineSpec"], f)  # JSON is YAML
        try:
            client = kfp.Client(host=args.kfp_host)
            run = client.create_run_from_pipeline_package(
                package,
                arguments={},
                run_name=config.runtime.pipeline_name,
                experiment_name=args.experiment,
                enable_caching=config.runtime.enable_cache,
            )
        except Exception as error:  # noqa: BLE001 - kfp raises many types for a host it cannot use
            raise SubmitError(
                f"Kubeflow Pipelines at {args.kfp_host} refused or could not be reached "
                f"({type(error).__name__}: {_first_line(error)}). Check the host, the network and your "
                f"credentials; the pipeline spec is in {args.output_file}."
            ) from error
    return run.run_id


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    try:
        config = build_config(args)
    except cli.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    console.quiet_libraries(args.verbose)
    try:
        job = compile_pipeline(config, args.image, args.output_file)
        nodes = sorted(job["pipelineSpec"]["root"]["dag"]["tasks"])
        print(f"Wrote {args.output_file}: {len(nodes)} components, image {args.image}.")
        print(f"Runtime parameters: {', '.join(sorted(job['pipelineSpec']['root']['inputDefinitions']['parameters']))}.")
        if args.submit:
            if args.kfp_host:
                print(f"Submitted to Kubeflow Pipelines at {args.kfp_host}: run {submit_kfp(job, config, args)}.")
            else:
                print(f"Submitted to Vertex AI Pipelines: {submit_vertex(args.output_file, config, args)}.")
    except SubmitError as error:
        if args.verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one readable line instead of a traceback
        if args.verbose:
            raise
        print(f"error: compiling failed: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
