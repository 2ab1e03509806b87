"""The resolver strategy that hands the Trainer the latest tuning of earlier runs, or nothing.

TFX's LatestArtifactStrategy returns None when it finds no artifact, which LocalDagRunner records
as a FAILED resolver execution: every run without an earlier --tune looked failed in ML Metadata
and the run summary. Finding nothing is the normal case here, so this strategy resolves to an
empty list instead, and the resolver's execution is COMPLETE. (KubeflowV2DagRunner compiles only
TFX's own strategies; a Kubeflow or Vertex run takes LatestArtifactStrategy, pipeline/dag.py.)
"""
from typing import Dict, List

from tfx import types
from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy


class LatestArtifactOrNothingStrategy(LatestArtifactStrategy):
    """The latest artifact of each input channel, or none when a channel has none yet."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, List[types.Artifact]]:
        del store  # every artifact needed is in input_dict
        return self._resolve(input_dict)
