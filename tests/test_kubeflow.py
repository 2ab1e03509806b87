"""Compiling for Kubeflow Pipelines v2 / Vertex AI, read back with their own libraries, offline."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from helpers import LOCAL_ONLY_NODES, PIPELINE_NODES
from pipeline import run_kubeflow
from pipeline.config import REPO_ROOT

RUN_KUBEFLOW = str(REPO_ROOT / "pipeline" / "run_kubeflow.py")
IMAGE = "us-docker.pkg.dev/my-project/pipelines/image-pipeline:1"
BASE_FLAGS = ["--image", IMAGE, "--pipeline-root", "gs://bucket/root", "--data-root", "gs://bucket/images"]
# The baseline resolver compiles to two tasks (model, then its blessing); resolvers run no container.
RESOLVER_TASKS = {
    "LatestBlessedModelResolver-model-resolver", "LatestBlessedModelResolver-model-blessing-resolver", "LatestTuningResolver",
}  # fmt: skip
TASKS = PIPELINE_NODES - {"LatestBlessedModelResolver"} - LOCAL_ONLY_NODES | RESOLVER_TASKS
# The steps that run Beam jobs (TFX's own, and ours).
BEAM_COMPONENTS = ("ImageExampleGen", "StatisticsGen", "Embeddings", "DataQuality", "Transform", "Evaluator")


def compile_to(path, *flags):
    assert run_kubeflow.main(["--output-file", str(path), *BASE_FLAGS, *flags]) == 0
    with open(path) as f:
        document = yaml.safe_load(f) if str(path).endswith(".yaml") else json.load(f)
    spec = document if str(path).endswith(".yaml") else document["pipelineSpec"]
    return document, json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("kfp") / "pipeline.json"
    return (path, *compile_to(path, "--beam-arg=--runner=DataflowRunner", "--beam-arg=--temp_location=gs://bucket/tmp"))


def test_every_component_is_in_the_spec_and_runs_in_the_image(compiled):
    _, _, spec = compiled
    assert set(spec.root.dag.tasks) == TASKS
    containers = {name: e["container"] for name, e in spec.deployment_spec["executors"].items() if "container" in e}
    assert {name.rsplit("_executor", 1)[0] for name in containers} == TASKS - RESOLVER_TASKS
    for name, container in containers.items():
        assert container["image"] == IMAGE, name
        assert list(container["command"]) == ["python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]


def test_drop_label_issues_compiles_a_step_that_the_training_steps_read(tmp_path):
    _, spec = compile_to(tmp_path / "pipeline.json", "--drop-label-issues")
    tasks = spec.root.dag.tasks
    assert set(tasks) == TASKS | {"DropLabelIssues"}
    assert set(tasks["DropLabelIssues"].dependent_tasks) >= {"ImageExampleGen", "DataQuality"}
    for reader in ("Transform", "Trainer", "Evaluator"):
        assert "DropLabelIssues" in tasks[reader].dependent_tasks, reader
    assert "DropLabelIssues" not in tasks["StatisticsGen"].dependent_tasks


def test_runtime_parameters_are_wired_to_the_components_with_defaults(compiled):
    _, job, spec = compiled
    parameters = spec.root.input_definitions.parameters
    assert set(parameters) == {"data_root", "majority_margin", "chance_margin", "max_regression", "confidence_level"}
    assert parameters["data_root"].default_value.string_value == "gs://bucket/images"
    assert parameters["majority_margin"].default_value.number_value == 0.02
    assert parameters["majority_margin"].parameter_type == pipeline_spec_pb2.ParameterType.NUMBER_DOUBLE
    tasks = spec.root.dag.tasks
    assert tasks["ImageExampleGen"].inputs.parameters["input_base"].component_input_parameter == "data_root"
    assert parameters["confidence_level"].default_value.number_value == 0.95
    for name in ("majority_margin", "chance_margin", "max_regression", "confidence_level"):
        assert tasks["PromotionGate"].inputs.parameters[name].component_input_parameter == name
    assert job["pipelineSpec"]["schemaVersion"] == "2.1.0"
    assert job["runtimeConfig"]["parameterValues"]["data_root"] == "gs://bucket/images"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/root"


def _constant(task, name):
    return task.inputs.parameters[name].runtime_value.constant.string_value


def test_locations_are_the_images_and_the_buckets_not_this_machine(compiled):
    _, _, spec = compiled
    tasks = spec.root.dag.tasks
    assert _constant(tasks["ImportSchemaGen"], "schema_file") == "/pipeline/schemas/schema.pbtxt"
    destination = json.loads(_constant(tasks["Pusher"], "push_destination"))
    assert destination["filesystem"]["base_directory"] == "gs://bucket/root/serving"
    assert _constant(tasks["EdgeExport"], "base_directory") == "gs://bucket/root/edge"
    # Entry points by import path: the image's installed packages, no module file from here.
    assert _constant(tasks["Trainer"], "run_fn") == "components.trainer.run.run_fn"
    assert str(REPO_ROOT) not in json.dumps(json_format.MessageToDict(spec))


def test_beam_arguments_reach_every_beam_component(compiled):
    _, _, spec = compiled
    for name in BEAM_COMPONENTS:
        args = list(spec.deployment_spec["executors"][f"{name}_executor"]["container"]["args"])
        assert args[-3:] == [
            "--runner=DataflowRunner",
            "--temp_location=gs://bucket/tmp",
            "--setup_file=/pipeline/setup.py",  # Dataflow workers install this project from the image's copy
        ], name


@pytest.mark.parametrize("name", ["pipeline.json", "pipeline.yaml"])
def test_vertex_ai_accepts_the_spec(tmp_path, name):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    path = tmp_path / name
    compile_to(path)
    job = aiplatform.PipelineJob(
        display_name="image-classification",
        template_path=str(path),
        pipeline_root="gs://bucket/root",
        project="my-project",
        location="us-central1",
        parameter_values={"majority_margin": 0.05},
        credentials=AnonymousCredentials(),
    )
    assert set(job.pipeline_spec["root"]["dag"]["tasks"]) == TASKS
    assert job.runtime_config.parameter_values["majority_margin"] == 0.05
    # Unset parameters take the spec's defaults (Vertex fills them in when the run starts).
    defaults = job.pipeline_spec["root"]["inputDefinitions"]["parameters"]
    assert defaults["data_root"]["defaultValue"] == "gs://bucket/images"


def test_kubeflow_client_reads_the_yaml(tmp_path):
    from kfp.client.client import _extract_pipeline_yaml

    path = tmp_path / "pipeline.yaml"
    compile_to(path)
    assert set(_extract_pipeline_yaml(str(path)).pipeline_spec.root.dag.tasks) == TASKS


def run_command(*argv, env=None):
    return subprocess.run([sys.executable, RUN_KUBEFLOW, *argv], capture_output=True, text=True, timeout=300, env=env)


def test_submit_without_credentials_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_", "TF_CPP"))}
    env.update(HOME=str(tmp_path), CLOUDSDK_CONFIG=str(tmp_path), NO_GCE_CHECK="True")
    out = tmp_path / "pipeline.json"
    result = run_command("--output-file", str(out), *BASE_FLAGS, "--submit", "--project", "my-project", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: No Google Cloud credentials found: run `gcloud auth")
    assert out.exists()  # compiling worked; only submitting failed


def test_submit_to_an_unreachable_kubeflow_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = run_command(
        "--output-file", str(tmp_path / "p.json"), *BASE_FLAGS, "--submit", "--kfp-host", "http://127.0.0.1:9", env=env
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Kubeflow Pipelines at http://127.0.0.1:9 refused")


def test_submit_needs_a_target():
    result = run_command("--output-file", "x.json", *BASE_FLAGS, "--submit")
    assert result.returncode == 2
    assert "--submit needs --project (Vertex AI Pipelines) or --kfp-host (Kubeflow Pipelines)" in result.stderr


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or os.path.join(os.path.dirname(sys.executable), "hadolint")
    result = subprocess.run([hadolint, str(REPO_ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_installs_what_the_components_import():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM tensorflow/tfx:1.16.0" in text
    for folder in ("components/", "pipeline/", "schemas/"):
        assert f"COPY {folder} {folder}" in text
    # The schema path the compiled pipeline names is where the image puts it.
    assert "WORKDIR /pipeline" in text and run_kubeflow.IMAGE_SCHEMA_FILE == "/pipeline/schemas/schema.pbtxt"
    assert "COPY setup.py" in text and run_kubeflow.IMAGE_SETUP_FILE == "/pipeline/setup.py"



def test_the_trainer_reuses_the_latest_tuning_which_the_resolver_cannot_confuse_with_the_hints(compiled):
    """Kubeflow compiles the resolver into a query by artifact type: it finds the Tuner's
    HyperParameters, and the hints LabelBalance writes are of another type."""
    _, _, spec = compiled
    query = spec.deployment_spec["executors"]["LatestTuningResolver_executor"]["resolver"]["outputArtifactQueries"]
    assert query["hyperparameters"]["filter"] == 'schema_title="tfx.HyperParameters" AND state=LIVE'
    trainer = spec.root.dag.tasks["Trainer"]
    assert trainer.inputs.artifacts["hyperparameters"].task_output_artifact.producer_task == "LatestTuningResolver"
    hints = spec.components["LabelBalance"].output_definitions.artifacts["training_hints"]
    assert hints.artifact_type.instance_schema.startswith("title: image_pipeline.TrainingHints\n")


def test_the_transform_decides_the_image_size_on_the_cluster_from_the_hints(compiled):
    """--image-size auto is decided when the Transform runs, as locally: our executor, fed the hints."""
    _, _, spec = compiled
    transform = spec.root.dag.tasks["Transform"]
    assert transform.inputs.artifacts["training_hints"].task_output_artifact.producer_task == "LabelBalance"
    args = " ".join(spec.deployment_spec["executors"]["Transform_executor"]["container"]["args"])
    assert "components.transform.component.Executor" in args
    assert json.loads(_constant(transform, "custom_config"))["image_size"] is None  # auto, until it runs


def test_local_only_flags_are_refused_with_one_line():
    for flag, instead in (("--data-dir", "--data-root"), ("--schema-file", "--image-schema-file")):
        result = run_command("--output-file", "x.json", *BASE_FLAGS, flag, "/here")
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {flag} is for local runs: on Kubeflow and Vertex AI give {instead}")


def test_tune_compiles_with_the_tuner_feeding_the_trainer(tmp_path):
    _, spec = compile_to(tmp_path / "tuned.json", "--tune", "--tune-trials", "3")
    assert set(spec.root.dag.tasks) == TASKS - {"LatestTuningResolver"} | {"Tuner"}
    trainer = spec.root.dag.tasks["Trainer"]
    assert trainer.inputs.artifacts["hyperparameters"].task_output_artifact.producer_task == "Tuner"
    assert trainer.inputs.artifacts["training_hints"].task_output_artifact.producer_task == "LabelBalance"
    assert spec.root.dag.tasks["Tuner"].inputs.artifacts["training_hints"].task_output_artifact.producer_task == "LabelBalance"
    assert _constant(spec.root.dag.tasks["Tuner"], "tuner_fn") == "components.tuner.tuner.tuner_fn"
    tuner_args = list(spec.deployment_spec["executors"]["Tuner_executor"]["container"]["args"])
    assert "components.tuner.component.Executor" in " ".join(tuner_args)
    assert json.loads(_constant(spec.root.dag.tasks["Tuner"], "custom_config"))["tuning"]["tune_trials"] == 3
