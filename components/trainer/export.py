"""Export a trained model with the Transform graph inside, so clients send raw images."""
from __future__ import annotations

import os
from typing import Optional, Sequence

import tensorflow as tf
import tensorflow_transform as tft

from components import artifacts, features
from components.trainer.explain import Explainer
from components.transform.preprocessing import input_spec, to_pixels


def export_serving_model(
    model: tf.keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    class_names: Sequence[str],
    export_dir: str,
    train_counts: Optional[Sequence[int]] = None,
) -> None:
    """Saves `model` as a SavedModel with three signatures.

    * `serving_default`: serialized tf.Example with the raw `image_bytes` feature -> probabilities
      (what TFMA and TF Serving's predict API use);
    * `serving_images`: a batch of encoded image files -> probabilities, class index and class name;
    * `serving_explain`: the same, plus where the model looks (`explain.py`): a Grad-CAM `heatmap`
      [batch, height, width] in [0, 1] for the predicted class, and the `pixels` the model saw
      (after decoding and resizing), to draw it over.

    The class names also go to `assets.extra/class_names.json` for tools that read the folder, with
    `input_spec.json` (what the TF Lite models take) and `train_class_counts.json` (the training
    split's classes, for batch prediction's drift check) when `train_counts` are known.
    """
    model.explainer = Explainer(model)
    model.tft_layer = tf_transform_output.transform_features_layer()
    image_spec = {features.IMAGE_KEY: tf_transform_output.raw_feature_spec()[features.IMAGE_KEY]}
    names = tf.constant(list(class_names))


    def pixels_of(raw_features):
        transformed = model.tft_layer(raw_features)
        # The same 8-bit rounding as the Trainer's input pipeline, so serving sees training's pixels.
        return to_pixels(transformed[features.TRANSFORMED_IMAGE_KEY])

    def probabilities(raw_features):
        return model(pixels_of(raw_features))

    def predicted(probs):
        class_index = tf.argmax(probs, axis=-1)
        return {
            features.PROBABILITIES_OUTPUT: probs,
            "class_index": class_index,
            "class_name": tf.gather(names, class_index),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized_examples):
        raw = tf.io.parse_example(serialized_examples, image_spec)
        return {features.PROBABILITIES_OUTPUT: probabilities(raw)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def serve_images(image_bytes):
        return predicted(probabilities({features.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1])}))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def serve_explain(image_bytes):
        pixels = pixels_of({features.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1])})
        heatmaps, probs = model.explainer(pixels)
        return {**predicted(probs), features.HEATMAP_OUTPUT: heatmaps, features.PIXELS_OUTPUT: pixels}

    model.save(
        export_dir,
        save_format="tf",
        signatures={
            features.SERVING_SIGNATURE: serve_examples,
            features.IMAGE_SIGNATURE: serve_images,
            features.EXPLAIN_SIGNATURE: serve_explain,
        },
        # Keras would also trace every layer's call for the SavedModel (2 of the 2.5 s of saving the
        # sample's model, and slower loading); the layers are Keras' own, rebuilt from their configs.
        save_traces=False,
    )
    extra = os.path.join(export_dir, artifacts.SERVING_EXTRA_DIR)
    tf.io.gfile.makedirs(extra)
    artifacts.write_json(extra, artifacts.CLASS_NAMES_FILE, list(class_names))
    # What the model's TF Lite versions take (no decode step): for apps that prepare images themselves.
    _, height, _, channels = model.inputs[0].shape
    artifacts.write_json(extra, artifacts.INPUT_SPEC_FILE, input_spec(int(height), int(channels)))
    if train_counts:
        # The training class distribution, which batch prediction compares its predictions with.
        artifacts.write_json(extra, artifacts.TRAIN_CLASS_COUNTS_FILE, dict(zip(class_names, (int(n) for n in train_counts))))
