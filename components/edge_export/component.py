"""The EdgeExport step: TFX glue over `export.export_edge_models`, and the published edge folder."""

import posixpath
import uuid

from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import path_utils

from components import artifacts, features
from components.edge_export.export import export_edge_models, published_models
from components.edge_export.options import EdgeOptions

InputArtifact = annotations.InputArtifact
OutputArtifact = annotations.OutputArtifact
Parameter = annotations.Parameter


@component
def EdgeExport(
    model: InputArtifact[standard_artifacts.Model],
    examples: InputArtifact[standard_artifacts.Examples],
    transform_graph: InputArtifact[standard_artifacts.TransformGraph],
    pushed_model: InputArtifact[standard_artifacts.PushedModel],
    edge: OutputArtifact[artifacts.EdgeModels],
    base_directory: Parameter[str],
    edge_export: Parameter[bool],
    min_int8_agreement: Parameter[float],
    parity_images: Parameter[int],
    representative_images: Parameter[int],
) -> None:
    """TF Lite models (float, int8) of the model the Pusher published, checked on the eval split.

    The parameters are `EdgeOptions.parameters()` and the folder that takes a version folder per
    pushed model (`<base_directory>/<the served version>/`): the TF Lite models that pass, their
    input spec, the class names and edge_export.json. An int8 model below `min_int8_agreement`
    stays in the `edge` artifact only. Without a push (not blessed) nothing is converted.
    """
    options = EdgeOptions(edge_export, min_int8_agreement, parity_images, representative_images)
    pushed = pushed_model.get_int_custom_property(artifacts.PUSHED_PROPERTY) == 1
    record = {"exported": False, "min_int8_agreement": options.min_int8_agreement}
    if not options.edge_export:
        record["reason"] = "turned off (--no-edge-export)"
    elif not pushed:
        record["reason"] = "the model was not pushed, so there is no promoted model to convert"
    else:
        import tensorflow_transform as tft

        split = lambda name: artifact_utils.get_split_uri([examples], name) + "/*"  # noqa: E731
        record = export_edge_models(
            path_utils.serving_model_path(model.uri),
            tft.TFTransformOutput(transform_graph.uri).transform_features_layer(),
            split(features.TRAIN_SPLIT),
            split(features.EVAL_SPLIT),
            options,
            edge.uri,
        )
        version = pushed_model.get_string_custom_property("pushed_version")
        record["folder"] = publish(record, base_directory, version, artifacts.read_class_names(examples.uri))
    artifacts.write_json(edge.uri, artifacts.EDGE_EXPORT_FILE, record)


def publish(record: dict, base_directory: str, version: str, class_names) -> str:
    """Writes `<base_directory>/<version>/` whole (a staging folder renamed into place), with the
    record's paths changed to the published files; returns the folder."""
    import tensorflow as tf

    target = posixpath.join(base_directory, version)
    staging = posixpath.join(base_directory, f".staging-{uuid.uuid4().hex}")
    tf.io.gfile.makedirs(staging)
    try:
        for model in published_models(record):
            name = posixpath.basename(model["path"])
            tf.io.gfile.copy(model["path"], posixpath.join(staging, name), overwrite=True)
            model["path"] = posixpath.join(target, name)
        artifacts.write_json(staging, artifacts.INPUT_SPEC_FILE, record["input_spec"])
        artifacts.write_json(staging, artifacts.CLASS_NAMES_FILE, list(class_names))
        artifacts.write_json(staging, artifacts.EDGE_EXPORT_FILE, {**record, "folder": target})
        if tf.io.gfile.exists(target):  # the same version converted again (a run without the cache)
            tf.io.gfile.rmtree(target)
        tf.io.gfile.rename(staging, target)
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
    return target
