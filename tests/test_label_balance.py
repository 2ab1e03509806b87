"""Class counts read from real TFDV statistics computed with the curated schema."""
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features
from components.label_balance.balance import LabelStatisticsError, label_counts, split_summary
from pipeline.dag import SCHEMA_FILE


def statistics_for(labels, schema):
    frame = pd.DataFrame({features.LABEL_KEY: labels, features.CLASS_NAME_KEY: [str(v) for v in labels]})
    return tfdv.generate_statistics_from_dataframe(frame, stats_options=tfdv.StatsOptions(schema=schema))


def test_counts_every_class_including_absent_ones():
    schema = tfdv.load_schema_text(str(SCHEMA_FILE))
    labels = [0] * 30 + [1] * 5 + [3] * 2  # class 2 has no examples
    assert label_counts(statistics_for(labels, schema), features.LABEL_KEY, num_classes=4) == [30, 5, 0, 2]


def test_more_classes_than_tfdv_shows_as_top_values_are_still_counted():
    # TFDV keeps 20 top values by default; the rank histogram keeps them all.
    schema = tfdv.load_schema_text(str(SCHEMA_FILE))
    labels = [c for c in range(25) for _ in range(c + 1)]
    assert label_counts(statistics_for(labels, schema), features.LABEL_KEY, num_classes=25) == list(range(1, 26))


def test_a_non_categorical_label_is_explained():
    schema = schema_pb2.Schema()
    schema.feature.add(name=features.LABEL_KEY, type=schema_pb2.INT)
    with pytest.raises(LabelStatisticsError, match="is_categorical: true"):
        label_counts(statistics_for([0, 1, 1], schema), features.LABEL_KEY, num_classes=2)


def test_summary_names_the_majority_class_and_its_share():
    summary = split_summary(["cat", "dog", "owl"], [6, 2, 1])
    assert summary == {
        "total": 9,
        "class_counts": {"cat": 6, "dog": 2, "owl": 1},
        "majority_class": "cat",
        "majority_fraction": pytest.approx(6 / 9),
    }
