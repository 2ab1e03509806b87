"""Batch prediction's TFX glue: TFX's BulkInferrer over a served model folder, and PredictionWriter."""

import json
import posixpath
import shutil
import time

import apache_beam as beam
from tfx.components.bulk_inferrer import component as bulk_inferrer_component
from tfx.components.bulk_inferrer import executor as bulk_inferrer_executor
from tfx.dsl.component.experimental.annotations import BeamComponentParameter, InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types.standard_artifacts import Examples, InferenceResult, Model

from components import artifacts, progress
from components.batch_prediction.options import PredictionOptions
from components.batch_prediction.predictions import batch_summary, prediction_line
from components.contracts import record
from components.contracts.ingestion import IngestionAccount

_COUNTS = "class_counts"
PROGRESS_STEP = "PredictionWriter"


class ServedModelInferrer(bulk_inferrer_executor.Executor):
    """TFX's BulkInferrer executor, which also takes a model folder as the Pusher publishes it
    (saved_model.pb at its top) instead of a Trainer's Model artifact (the model in Format-Serving/)."""

    def _get_inference_spec(self, model_path, exec_properties):
        if not fileio.exists(posixpath.join(model_path, "saved_model.pb")):
            folder = posixpath.dirname(model_path.rstrip("/"))
            if fileio.exists(posixpath.join(folder, "saved_model.pb")):
                model_path = folder
        return super()._get_inference_spec(model_path, exec_properties)


class BulkInferrer(bulk_inferrer_component.BulkInferrer):
    """TFX's BulkInferrer component, run by ServedModelInferrer."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ServedModelInferrer)


def _read_json_lines(pattern: str):
    for path in sorted(fileio.glob(pattern)):
        with fileio.open(path) as f:
            yield from (json.loads(line) for line in f if line.strip())


@component(use_beam=True)
def PredictionWriter(
    inference_result: InputArtifact[InferenceResult], examples: InputArtifact[Examples], model: InputArtifact[Model],
    predictions: OutputArtifact[artifacts.BatchPredictions],
    images_root: Parameter[str], options: Parameter[str],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters
    """BulkInferrer's prediction logs -> `predictions`: PREDICTIONS_FILE (a line per image),
    REJECTED_FILE (a line per file ExampleGen rejected, with the reason) and batch_summary.json
    (`contracts.prediction.BatchSummary`).

    `model` is the served model folder (its name is the model version; its assets.extra/ holds the
    class names and the training class counts); `images_root` is the folder the paths are under;
    `options` is `PredictionOptions.to_parameter()`.
    """
    from tensorflow_serving.apis import prediction_log_pb2

    settings = PredictionOptions.from_parameter(options)
    extra = posixpath.join(model.uri.rstrip("/"), artifacts.SERVING_EXTRA_DIR)
    class_names = artifacts.read_json(extra, artifacts.CLASS_NAMES_FILE)
    train_counts = artifacts.read_json_if_present(extra, artifacts.TRAIN_CLASS_COUNTS_FILE)
    version = posixpath.basename(model.uri.rstrip("/"))
    parts = posixpath.join(predictions.uri, ".parts")
    account = record.read(IngestionAccount, examples.uri)
    started = time.monotonic()
    with beam_pipeline as pipeline:
        logs = pipeline | "ReadLogs" >> beam.io.ReadFromTFRecord(
            posixpath.join(inference_result.uri, "*.gz"), coder=beam.coders.ProtoCoder(prediction_log_pb2.PredictionLog)
        )
        lines = progress.counted(logs, PROGRESS_STEP, "predictions", account.ingested) | "ToLines" >> beam.Map(
            prediction_line, class_names, version, images_root
        )
        _ = (
            lines
            | "Encode" >> beam.Map(json.dumps)
            # Sharded: one shard would gather every line on one worker first (all in memory on
            # Beam's in-process runner); the shards are joined into one file below, streamed.
            | "Write" >> beam.io.WriteToText(posixpath.join(parts, "predictions"), file_name_suffix=".jsonl")
        )
        _ = (
            lines
            | "Classes" >> beam.Map(lambda line: line["class"])
            | "Count" >> beam.combiners.Count.PerElement()
            | "EncodeCounts" >> beam.Map(json.dumps)
            | "WriteCounts" >> beam.io.WriteToText(posixpath.join(parts, _COUNTS), file_name_suffix=".jsonl")
        )
    counts = dict(map(tuple, _read_json_lines(posixpath.join(parts, _COUNTS + "*"))))
    with fileio.open(posixpath.join(predictions.uri, artifacts.PREDICTIONS_FILE), "wb") as joined:
        for shard in sorted(fileio.glob(posixpath.join(parts, "predictions*"))):
            with fileio.open(shard, "rb") as f:
                shutil.copyfileobj(f, joined, 1 << 20)
    if fileio.exists(parts):
        fileio.rmtree(parts)
    progress.final_count(PROGRESS_STEP, sum(counts.values()), time.monotonic() - started, "predictions")
    rejected = "".join(
        json.dumps({"path": posixpath.join(images_root, r.path), "reason": r.reason}) + "\n"
        for r in account.rejected + account.dropped
    )
    artifacts.write_text(predictions.uri, artifacts.REJECTED_FILE, rejected)
    summary = batch_summary(counts, class_names, train_counts, account, version, settings.drift_threshold)
    record.write(summary, predictions.uri)
