"""Console output shared by the commands: quiet libraries, one progress line per component."""
from __future__ import annotations

import logging
import os
import time
import warnings


class ProgressFilter(logging.Filter):
    """Turns LocalDagRunner's 'Component X is running.' log records into one short line each and,
    unless verbose, drops the other INFO records of TFX's (absl) logger."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose
        self.started = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return self.verbose
        message = record.getMessage()
        if message.startswith("Component ") and message.endswith(" is running."):
            node = message[len("Component ") : -len(" is running.")]
            self.started[node] = time.time()
            print(f"[{node}] running", flush=True)
        elif message.startswith("Component ") and message.endswith(" is finished."):
            node = message[len("Component ") : -len(" is finished.")]
            print(f"[{node}] done in {time.time() - self.started.get(node, time.time()):.1f}s", flush=True)
        return self.verbose


def quiet_libraries(verbose: bool, show_progress: bool = False) -> None:
    """TensorFlow, Beam and the Google client libraries log far more than a user needs.

    Call before TensorFlow is imported. With `show_progress`, LocalDagRunner's component
    start and finish records become one short line each.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    if not verbose:
        # Also for the processes Beam's multi-processing runner starts, which inherit the environment.
        os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::DeprecationWarning,ignore::UserWarning")
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
    from absl import logging as absl_logging

    if show_progress:
        absl_logging.set_verbosity(absl_logging.INFO)
        logging.getLogger("absl").addFilter(ProgressFilter(verbose))
    elif not verbose:
        absl_logging.set_verbosity(absl_logging.ERROR)
    if not verbose:
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
        logging.getLogger("apache_beam").setLevel(logging.ERROR)
        # Retry notices before a clear error line; the child logger, as kfp resets "urllib3" itself.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
