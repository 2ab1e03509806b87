"""Pusher executor: version folders that appear whole, and no second copy of the same model.

TFX's stock Pusher copies the model file by file into `<base>/<unix time>/` and pushes again
whenever it re-runs, for example when the Evaluator re-blesses a cached model. This executor:

* copies into a hidden staging folder and renames it into place, so a model server or a reader
  never sees a half-written version (rename is atomic on local and POSIX file systems);
* removes staging folders a killed push left behind, once they are an hour old (a push in
  progress elsewhere is never that old);
* records which model artifact a version holds (`assets.extra/push_record.json`) and, when that
  model is already published, reports the existing version instead of copying it again.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Dict, List, Optional

import tensorflow as tf
from tfx.components.pusher import executor as pusher_executor
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components import artifacts
from components.artifacts import ArtifactDict

PUSH_RECORD = os.path.join(artifacts.SERVING_EXTRA_DIR, artifacts.PUSH_RECORD_FILE)
_STAGING_PREFIX = ".staging-"
STALE_STAGING_SECONDS = 3600


def remove_stale_staging(base_directory: str, now: Optional[float] = None) -> List[str]:
    """Deletes staging folders older than STALE_STAGING_SECONDS; returns their names.

    A push killed between copying and renaming (SIGKILL, a lost node) leaves its staging folder;
    model servers ignore it (not a number), and this keeps the folder from growing.
    """
    now = time.time() if now is None else now
    removed = []
    for name in tf.io.gfile.listdir(base_directory):
        name = name.rstrip("/")
        if not name.startswith(_STAGING_PREFIX):
            continue
        path = os.path.join(base_directory, name)
        try:
            age = now - tf.io.gfile.stat(path).mtime_nsec / 1e9
        except tf.errors.OpError:  # object stores may have no folder to stat
            continue
        if age > STALE_STAGING_SECONDS:
            tf.io.gfile.rmtree(path)
            removed.append(name)
    return removed


def version_dirs(base_directory: str) -> List[str]:
    """Published version folder names under `base_directory`, oldest first."""
    if not tf.io.gfile.isdir(base_directory):
        return []
    names = [name.rstrip("/") for name in tf.io.gfile.listdir(base_directory)]
    return sorted((n for n in names if n.isdigit()), key=int)


def find_published_version(base_directory: str, model_uri: str) -> Optional[str]:
    """The version folder that already holds the model artifact at `model_uri`, if any."""
    for version in version_dirs(base_directory):
        record_path = os.path.join(base_directory, version, PUSH_RECORD)
        if not tf.io.gfile.exists(record_path):
            continue
        with tf.io.gfile.GFile(record_path) as f:
            if json.load(f).get("model_uri") == model_uri:
                return version
    return None


def _is_saved_model(path: str) -> bool:
    return any(tf.io.gfile.exists(os.path.join(path, name)) for name in ("saved_model.pb", "saved_model.pbtxt"))


def publish(model_path: str, base_directory: str, model_uri: str) -> str:
    """Copies the SavedModel at `model_path` to a new version folder; returns the version name.

    Versions are Unix timestamps (TF Serving loads the highest); a clash within one second takes
    the next free number.
    """
    tf.io.gfile.makedirs(base_directory)
    remove_stale_staging(base_directory)
    staging = os.path.join(base_directory, f"{_STAGING_PREFIX}{uuid.uuid4().hex}")
    try:
        io_utils.copy_dir(model_path, staging)
        if not _is_saved_model(staging):  # copy_dir copies a missing folder as an empty one
            raise ValueError(f"No SavedModel at {model_path} (no saved_model.pb): nothing was published.")
        tf.io.gfile.makedirs(os.path.dirname(os.path.join(staging, PUSH_RECORD)))
        with tf.io.gfile.GFile(os.path.join(staging, PUSH_RECORD), "w") as f:
            json.dump({"model_uri": model_uri, "pushed_at": time.time()}, f)
        version = int(time.time())
        existing = version_dirs(base_directory)
        if existing:
            version = max(version, int(existing[-1]) + 1)
        tf.io.gfile.rename(staging, os.path.join(base_directory, str(version)))
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
    return str(version)


class Executor(pusher_executor.Executor):
    """Pushes a blessed model to `push_destination.filesystem.base_directory`.

    Do() keys: inputs `model` and `model_blessing`; output `pushed_model`, whose custom
    properties `pushed`, `pushed_destination` and `pushed_version` say what was published.
    """

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("This Pusher publishes to a filesystem push_destination only.")
        base_directory = destination.filesystem.base_directory
        model_uri = artifact_utils.get_single_uri(input_dict[standard_component_specs.MODEL_KEY])
        version = find_published_version(base_directory, model_uri)
        if version is None:
            version = publish(self.GetModelPath(input_dict), base_directory, model_uri)
        self._MarkPushed(model_push, os.path.join(base_directory, version), version)
