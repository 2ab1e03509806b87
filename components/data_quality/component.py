"""The DataQuality step: TFX glue over `find.find_problems` (Beam), `embedded.embedding_checks` and
`find.quality_record`; and DropLabelIssues, in the DAG with --drop-label-issues only."""
import dataclasses
import posixpath
import time

import apache_beam as beam
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import BeamComponentParameter, InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.components.util import examples_utils
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples

from components import artifacts, features, progress
from components.beam_reads import read_splits
from components.contracts import record
from components.contracts.ingestion import IngestionAccount
from components.contracts.quality import QualityRecord
from components.data_quality.drop import account_after_dropping, label_issues_to_drop
from components.contracts.embeddings import EmbeddingIndex
from components.data_quality.embedded import embedding_checks
from components.data_quality.find import PROGRESS_STEP, find_problems, quality_record, shown_paths, write_thumbnails
from components.data_quality.options import QualityOptions


@component(use_beam=True)
def DataQuality(
    examples: InputArtifact[Examples],
    embeddings: InputArtifact[artifacts.Embeddings],
    quality: OutputArtifact[artifacts.DataQualityReport],
    options: Parameter[str],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Finds exact and near duplicates, conflicting labels, train/eval leaks, odd images and label
    issues in the examples, the last three with the help of their embeddings.

    `options` is `QualityOptions.to_parameter()`. Runs a Beam job with the pipeline's Beam
    options (on Dataflow with the other Beam steps) and the embedding checks (embedded.py), then
    writes data_quality.json (`contracts.quality.QualityRecord`) and thumbnails of what the data
    report shows into `quality`.
    """
    settings = QualityOptions.from_parameter(options)
    class_names = artifacts.read_class_names(examples.uri)
    splits = artifact_utils.decode_split_names(examples.split_names)
    patterns = {split: artifact_utils.get_split_uri([examples], split) + "/*" for split in splits}
    started, images = time.monotonic(), examples.get_int_custom_property("ingested") or None
    with beam_pipeline as pipeline:
        find_problems(pipeline, patterns, settings, quality.uri, images)
    embedded = embedding_checks(embeddings.uri, record.read(EmbeddingIndex, embeddings.uri), class_names, settings)
    found = quality_record(quality.uri, class_names, settings, embedded)
    thumbnails = write_thumbnails(examples.uri + "/Split-*/*", shown_paths(found), quality.uri)
    record.write(dataclasses.replace(found, thumbnails=thumbnails), quality.uri)
    quality.set_int_custom_property("leaked_eval_images", found.counts.leaked_eval_images)
    quality.set_int_custom_property("label_issues", found.counts.label_issues)
    if images:
        progress.final_count(PROGRESS_STEP, images, time.monotonic() - started)


def _filter_split(pipeline, source: str, target: str, drop: frozenset, split: str):
    return (
        read_splits(pipeline, {split: source}, f"Read{split}")
        | f"Keep{split}" >> beam.Filter(lambda named: _path_of(named[1]) not in drop)
        | f"Record{split}" >> beam.Map(lambda named: named[1])
        | f"Write{split}" >> beam.io.WriteToTFRecord(target, file_name_suffix=".gz")
    )


def _path_of(serialized: bytes) -> str:
    example = tf.train.Example.FromString(serialized)
    return example.features.feature[features.PATH_KEY].bytes_list.value[0].decode("utf-8", "replace")


@component(use_beam=True)
def DropLabelIssues(
    examples: InputArtifact[Examples],
    quality: InputArtifact[artifacts.DataQualityReport],
    cleaned: OutputArtifact[Examples],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """The examples without the images DataQuality listed as label issues (--drop-label-issues).

    Copies every split, leaving those images out, with the class names and an ingestion.json
    that lists each of them as dropped with its reason, so that files_seen == ingested +
    rejected + dropped still holds for what the Transform, Trainer and Evaluator read.
    """
    found = record.read(QualityRecord, quality.uri)
    dropped = label_issues_to_drop(found)
    splits = artifact_utils.decode_split_names(examples.split_names)
    cleaned.split_names = examples.split_names
    drop = frozenset(dropped)
    with beam_pipeline as pipeline:
        for split in splits:
            source = artifact_utils.get_split_uri([examples], split) + "/*"
            target = posixpath.join(artifact_utils.get_split_uri([cleaned], split), "data_tfrecord")
            _filter_split(pipeline, source, target, drop, split)
    examples_utils.set_payload_format(cleaned, examples_utils.get_payload_format(examples))
    artifacts.write_class_names(cleaned, artifacts.read_class_names(examples.uri))
    account = record.read_if_present(IngestionAccount, examples.uri)
    if account is not None:
        record.write(account_after_dropping(account, dropped), cleaned.uri)
    cleaned.set_int_custom_property("dropped_label_issues", len(dropped))
