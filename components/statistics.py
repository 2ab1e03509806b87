"""StatisticsGen's TFDV statistics and the schema, read the one way every step reads them
(LabelBalance, Drift)."""
from __future__ import annotations

import os

from tensorflow_metadata.proto.v0 import statistics_pb2

STATISTICS_FILE = "FeatureStats.pb"  # what StatisticsGen writes in each split folder
SCHEMA_FILE = "schema.pbtxt"  # what ImportSchemaGen writes in its artifact


def read_split_statistics(statistics, split: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """One split's statistics from an ExampleStatistics artifact."""
    import tensorflow_data_validation as tfdv
    from tfx.types import artifact_utils

    return tfdv.load_stats_binary(os.path.join(artifact_utils.get_split_uri([statistics], split), STATISTICS_FILE))


def feature_statistics(statistics: statistics_pb2.DatasetFeatureStatisticsList, name: str):
    """The statistics of feature `name` in the first dataset, or None."""
    for feature in statistics.datasets[0].features:
        if (feature.name or ".".join(feature.path.step)) == name:
            return feature
    return None


def read_schema(schema_uri: str):
    """The schema in a Schema artifact (ImportSchemaGen's copy of schemas/schema.pbtxt)."""
    import tensorflow_data_validation as tfdv

    return tfdv.load_schema_text(os.path.join(schema_uri, SCHEMA_FILE))
