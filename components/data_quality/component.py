"""The DataQuality step: TFX glue over `find.find_problems` (Beam) and `find.quality_record`."""
import dataclasses

import apache_beam as beam
from tfx.dsl.component.experimental.annotations import BeamComponentParameter, InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples

from components import artifacts
from components.contracts import record
from components.contracts.embeddings import EmbeddingIndex
from components.data_quality.embedded import embedding_checks
from components.data_quality.find import find_problems, quality_record, shown_paths, write_thumbnails
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
    with beam_pipeline as pipeline:
        find_problems(pipeline, patterns, settings, quality.uri)
    embedded = embedding_checks(embeddings.uri, record.read(EmbeddingIndex, embeddings.uri), class_names, settings)
    found = quality_record(quality.uri, class_names, settings, embedded)
    thumbnails = write_thumbnails(examples.uri + "/Split-*/*", shown_paths(found), quality.uri)
    record.write(dataclasses.replace(found, thumbnails=thumbnails), quality.uri)
    quality.set_int_custom_property("leaked_eval_images", found.counts.leaked_eval_images)
    quality.set_int_custom_property("label_issues", found.counts.label_issues)
