"""The Pusher's publishing: whole version folders only, leftovers of killed pushes cleaned up."""
import json
import os
import time

import pytest

from components.serving_pusher import executor as pusher


def make_model(path):
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"graph")
    (path / "variables" / "variables.index").write_bytes(b"index")
    return path


def test_publish_makes_one_whole_version_and_records_the_model(tmp_path):
    model = make_model(tmp_path / "model")
    serving = tmp_path / "serving"
    version = pusher.publish(str(model), str(serving), "uri://model/1")
    assert os.listdir(serving) == [version]
    assert (serving / version / "variables" / "variables.index").read_bytes() == b"index"
    record = json.loads((serving / version / pusher.PUSH_RECORD).read_text())
    assert record["model_uri"] == "uri://model/1"
    assert pusher.find_published_version(str(serving), "uri://model/1") == version
    # The next push gets a higher version even within the same second.
    later = pusher.publish(str(model), str(serving), "uri://model/2")
    assert int(later) > int(version) and pusher.version_dirs(str(serving)) == [version, later]


def test_a_failed_copy_leaves_no_folder_and_keeps_the_served_version(tmp_path):
    serving = tmp_path / "serving"
    version = pusher.publish(str(make_model(tmp_path / "model")), str(serving), "uri://model/1")
    with pytest.raises(ValueError, match="No SavedModel at .*missing_model"):
        pusher.publish(str(tmp_path / "missing_model"), str(serving), "uri://model/2")
    assert os.listdir(serving) == [version]


def test_staging_left_by_a_killed_push_is_removed_once_stale(tmp_path):
    serving = tmp_path / "serving"
    stale = serving / ".staging-killed"
    fresh = serving / ".staging-in-progress"
    for folder in (stale, fresh):
        make_model(folder)
    hour_ago = time.time() - pusher.STALE_STAGING_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    version = pusher.publish(str(make_model(tmp_path / "model")), str(serving), "uri://model/1")
    assert sorted(os.listdir(serving)) == sorted([version, fresh.name])
