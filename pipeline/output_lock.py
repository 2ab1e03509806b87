"""One run at a time per output dir: an exclusive lock the kernel releases even if a run is killed."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from typing import Iterator

LOCK_FILE = ".run.lock"


class OutputDirError(RuntimeError):
    """The output dir cannot be used now; the message says why and what to do."""


@contextlib.contextmanager
def exclusive_output_dir(output_dir: str) -> Iterator[None]:
    """Creates `output_dir` if needed and holds its lock while the block runs.

    A second run on the same output dir fails at once with the first run's pid, instead of
    interleaving with it in the same ML Metadata store and serving folder.
    """
    try:
        os.makedirs(output_dir, exist_ok=True)
        fd = os.open(os.path.join(output_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise OutputDirError(
            f"Cannot write to --output-dir {output_dir} ({error.strerror or error}): choose a folder you can write to."
        ) from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise OutputDirError(
                f"Another run (pid {holder}) is using --output-dir {output_dir}: wait for it to finish, "
                "or use another --output-dir."
            ) from error
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
