"""What a user runs: config, the one DAG, runners and run summaries."""
# Importing `components` first sets TF_USE_LEGACY_KERAS before anything loads TensorFlow.
import components  # noqa: F401
