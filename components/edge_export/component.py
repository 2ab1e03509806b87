"""The EdgeExport step: TFX glue over `export.export_edge_models`, and the published edge folder."""

import dataclasses
import posixpath
import uuid

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples, Model, PushedModel, TransformGraph
from tfx.utils import path_utils

from components import artifacts, features
from components.contracts import record
from components.contracts.edge import EdgeRecord
from components.edge_export.export import export_edge_models, published_keys
from components.edge_export.options import EdgeOptions


@component
def EdgeExport(
    model: InputArtifact[Model], examples: InputArtifact[Examples], transform_graph: InputArtifact[TransformGraph],
    pushed_model: InputArtifact[PushedModel],
    edge: OutputArtifact[artifacts.EdgeModels],
    base_directory: Parameter[str], options: Parameter[str],
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters
    """TF Lite models (float, int8) of the model the Pusher published, checked on the eval split.

    `options` is `EdgeOptions.to_parameter()`; `base_directory` takes a version folder per
    pushed model (`<base_directory>/<the served version>/`): the TF Lite models that pass, their
    input spec, the class names and edge_export.json (`contracts.edge.EdgeRecord`). An int8 model
    below `min_int8_agreement` stays in the `edge` artifact only. Without a push (not blessed)
    nothing is converted.
    """
    settings = EdgeOptions.from_parameter(options)
    pushed = pushed_model.get_int_custom_property(artifacts.PUSHED_PROPERTY) == 1
    if not settings.edge_export:
        found = EdgeRecord(exported=False, reason="turned off (--no-edge-export)", min_int8_agreement=settings.min_int8_agreement)
    elif not pushed:
        found = EdgeRecord(
            exported=False,
            reason="the model was not pushed, so there is no promoted model to convert",
            min_int8_agreement=settings.min_int8_agreement,
        )
    else:
        import tensorflow_transform as tft

        split = lambda name: artifact_utils.get_split_uri([examples], name) + "/*"  # noqa: E731
        found = export_edge_models(
            path_utils.serving_model_path(model.uri),
            tft.TFTransformOutput(transform_graph.uri).transform_features_layer(),
            split(features.TRAIN_SPLIT),
            split(features.EVAL_SPLIT),
            settings,
            edge.uri,
        )
        version = pushed_model.get_string_custom_property("pushed_version")
        found = publish(found, base_directory, version, artifacts.read_class_names(examples.uri))
    record.write(found, edge.uri)


def publish(found: EdgeRecord, base_directory: str, version: str, class_names) -> EdgeRecord:
    """Writes `<base_directory>/<version>/` whole (a staging folder renamed into place); returns
    the record with the published files' paths and the folder."""
    import tensorflow as tf

    target = posixpath.join(base_directory, version)
    staging = posixpath.join(base_directory, f".staging-{uuid.uuid4().hex}")
    tf.io.gfile.makedirs(staging)
    try:
        moved = {}
        for key in published_keys(found):
            name = posixpath.basename(getattr(found, key).path)
            tf.io.gfile.copy(getattr(found, key).path, posixpath.join(staging, name), overwrite=True)
            moved[key] = dataclasses.replace(getattr(found, key), path=posixpath.join(target, name))
        found = dataclasses.replace(found, folder=target, **moved)
        artifacts.write_json(staging, artifacts.INPUT_SPEC_FILE, found.input_spec)
        artifacts.write_json(staging, artifacts.CLASS_NAMES_FILE, list(class_names))
        record.write(found, staging)
        if tf.io.gfile.exists(target):  # the same version converted again (a run without the cache)
            tf.io.gfile.rmtree(target)
        tf.io.gfile.rename(staging, target)
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
    return found
