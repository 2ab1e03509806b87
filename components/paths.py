"""Where a path lives: on this machine, or on a remote file system reached through tf.io.gfile."""


def is_remote(path: str) -> bool:
    """True for URIs such as gs://bucket/x (and TensorFlow's ram://), False for local paths."""
    return "://" in path
