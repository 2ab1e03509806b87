"""The DataQuality step: TFX glue over `find.find_problems` (Beam) and `find.quality_record`."""

import apache_beam as beam
from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from components import artifacts
from components.data_quality.checks import QualityOptions
from components.data_quality.find import find_problems, quality_record, shown_paths, write_thumbnails

InputArtifact = annotations.InputArtifact
OutputArtifact = annotations.OutputArtifact
Parameter = annotations.Parameter
BeamComponentParameter = annotations.BeamComponentParameter


@component(use_beam=True)
def DataQuality(
    examples: InputArtifact[standard_artifacts.Examples],
    quality: OutputArtifact[artifacts.DataQualityReport],
    near_constant_contrast: Parameter[float],
    max_aspect_ratio: Parameter[float],
    blur_fraction: Parameter[float],
    near_duplicate_bits: Parameter[int],
    near_duplicate_difference: Parameter[float],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Finds exact and near duplicates, conflicting labels, train/eval leaks and odd images in the examples.

    The parameters are `QualityOptions.parameters()`. Runs a Beam job with the pipeline's Beam
    options (on Dataflow with the other Beam steps), then writes artifacts.DATA_QUALITY_FILE and
    thumbnails of what the data report shows into `quality`.
    """
    options = QualityOptions(
        near_constant_contrast, max_aspect_ratio, blur_fraction, near_duplicate_bits, near_duplicate_difference
    )
    class_names = artifacts.read_class_names(examples.uri)
    splits = artifact_utils.decode_split_names(examples.split_names)
    patterns = {split: artifact_utils.get_split_uri([examples], split) + "/*" for split in splits}
    with beam_pipeline as pipeline:
        find_problems(pipeline, patterns, options, quality.uri)
    record = quality_record(quality.uri, class_names, options)
    record["thumbnails"] = write_thumbnails(examples.uri + "/Split-*/*", shown_paths(record), quality.uri)
    artifacts.write_json(quality.uri, artifacts.DATA_QUALITY_FILE, record)
    quality.set_int_custom_property("leaked_eval_images", record["counts"]["leaked_eval_images"])
