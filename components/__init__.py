"""Pipeline steps this project owns: image ExampleGen, label balance, Transform and Trainer code."""
import os

# TFX 1.16, tf.Transform and TFMA work with Keras 2 (tf_keras). The switch must be set before
# TensorFlow is first imported in any process that runs our code: the local runner, Beam
# workers and Kubeflow containers all import this package first.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
