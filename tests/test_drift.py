"""Drift from the served model's training data: TFDV's comparators on statistics made here, and
the walk through ML Metadata's lineage that finds those statistics."""
import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.drift.compare import compare, finding
from components.drift.options import DriftOptions
from components.drift.resolver import latest_blessed_model_id, training_statistics_id
from helpers import blessing_artifact, model_artifact

SCHEMA = "schemas/schema.pbtxt"


def statistics(shares, brightness=0.3, n=600, seed=0):
    """TFDV statistics of `n` made-up train images: classes in `shares`, brightness around a mean."""
    rng = np.random.default_rng(seed)
    names = rng.choice(list(shares), size=n, p=list(shares.values()))
    frame = pd.DataFrame(
        {
            "class_name": names,
            "image_width": rng.choice([28, 32], size=n),
            "image_height": rng.choice([28, 32], size=n),
            "brightness": np.clip(rng.normal(brightness, 0.05, size=n), 0, 1),
            "contrast": np.clip(rng.normal(0.2, 0.03, size=n), 0, 1),
        }
    )
    return tfdv.generate_statistics_from_dataframe(frame)


@pytest.fixture(scope="module")
def schema():
    return tfdv.load_schema_text(SCHEMA)


@pytest.fixture(scope="module")
def served():
    return statistics({"cat": 0.6, "dog": 0.3, "owl": 0.1})


def test_unchanged_data_says_nothing(schema, served):
    again = statistics({"cat": 0.6, "dog": 0.3, "owl": 0.1}, seed=1)  # other images, the same mix
    measures = compare(again, served, schema, DriftOptions())
    assert [m.feature for m in measures] == ["class_name", "image_width", "image_height", "brightness", "contrast"]
    assert not any(m.drifted for m in measures)
    assert all(0 <= m.value < m.threshold for m in measures)


def test_a_moved_class_share_is_named_with_its_shares(schema, served):
    moved = statistics({"cat": 0.3, "dog": 0.3, "owl": 0.4})
    (drifted,) = [m for m in compare(moved, served, schema, DriftOptions()) if m.drifted]
    assert drifted.feature == "class_name" and drifted.measure == "L-infinity distance"
    assert drifted.value == pytest.approx(0.3, abs=0.06)  # TFDV's largest change of one class's share
    assert finding(drifted).startswith("class shares moved since the served model's training data: 'owl' 1")
    assert "-> 4" in drifted.detail and "(L-infinity distance 0.3" in finding(drifted)
    # The threshold is the user's: at 0.5 nothing moved far enough.
    assert not any(m.drifted for m in compare(moved, served, schema, DriftOptions(class_share_drift=0.5)))


def test_darker_images_are_named_by_their_brightness(schema, served):
    darker = statistics({"cat": 0.6, "dog": 0.3, "owl": 0.1}, brightness=0.6)
    (drifted,) = [m for m in compare(darker, served, schema, DriftOptions()) if m.drifted]
    assert drifted.feature == "brightness" and drifted.measure == "Jensen-Shannon divergence"
    assert drifted.value > 0.5
    assert finding(drifted).startswith("brightness moved since the served model's training data: median brightness 0.30 -> 0.60")


def _store():
    config = metadata_store_pb2.ConnectionConfig()
    config.fake_database.SetInParent()
    return metadata_store.MetadataStore(config)


def test_the_served_models_statistics_are_found_through_its_lineage():
    """ExampleGen -> examples -> StatisticsGen -> statistics; examples -> DropLabelIssues ->
    cleaned -> Trainer -> model: the model's training statistics are those of the examples its
    cleaned examples came from. Another run's statistics are not taken."""
    store = _store()
    artifact_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Thing"))
    execution_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name="Step"))
    examples, statistics_, cleaned, model, other_statistics = store.put_artifacts(
        [metadata_store_pb2.Artifact(type_id=artifact_type, uri=f"/{i}") for i in range(5)]
    )

    def step(inputs, outputs):
        (execution,) = store.put_executions([metadata_store_pb2.Execution(type_id=execution_type)])
        events = []
        for kind, artifacts in ((metadata_store_pb2.Event.INPUT, inputs), (metadata_store_pb2.Event.OUTPUT, outputs)):
            for key, artifact_id in artifacts.items():
                event = metadata_store_pb2.Event(artifact_id=artifact_id, execution_id=execution, type=kind)
                event.path.steps.add().key = key
                events.append(event)
        store.put_events(events)

    step({}, {"examples": examples})  # ExampleGen
    step({"examples": examples}, {"statistics": statistics_})  # StatisticsGen
    step({"examples": examples}, {"cleaned": cleaned})  # DropLabelIssues
    step({"examples": cleaned, "transform_graph": other_statistics}, {"model": model})  # Trainer
    known = {statistics_, other_statistics}
    assert training_statistics_id(store, model, known) == statistics_
    assert training_statistics_id(store, model, {other_statistics}) is None  # not in its lineage


def test_the_served_model_is_the_latest_blessed_one():
    models = [model_artifact(i) for i in (3, 5, 7)]
    blessings = [blessing_artifact(3, True), blessing_artifact(5, True), blessing_artifact(7, False)]
    assert latest_blessed_model_id(models, blessings) == 5
    assert latest_blessed_model_id(models, blessings[2:]) is None


def test_the_report_section_names_what_moved_and_every_measure(schema, served):
    from components.contracts.drift import DriftRecord
    from components.drift.report import drift_section

    measures = compare(statistics({"cat": 0.3, "dog": 0.3, "owl": 0.4}), served, schema, DriftOptions())
    findings = [finding(m) for m in measures if m.drifted]
    page = drift_section(DriftRecord(True, "this run's train images against those of the served model (/m/3)", "/s/2", "/m/3", measures, findings))
    assert 'class="verdict warning"' in page and "Class shares moved since the served model&#x27;s training data" in page
    assert page.count("<tr>") == 1 + len(measures) and "Jensen-Shannon divergence" in page
    quiet = drift_section(DriftRecord(False, "no blessed model yet: nothing to compare with", None, None, [], []))
    assert "Not compared: no blessed model yet" in quiet and 'class="verdict good"' in quiet
