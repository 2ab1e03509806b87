"""The baseline a candidate is compared with: the latest blessed model other than the candidate.

TFX's LatestBlessedModelStrategy takes the latest blessed model of all. After a run blesses model
M, a re-run with nothing changed gets M back from the Trainer's cache as the candidate and M again
as the baseline: the Evaluator's inputs differ from the first run's, so it evaluates M against
itself and the gate and Pusher run again, for nothing. Leaving the candidate out gives a cached
re-run the very baseline of its first run, so every step is cached. Any other candidate, new or an
older model the cache brings back (a re-run with earlier settings), is compared with the latest
blessed model, as with TFX's strategy: an old model cannot replace a newer, better one unchecked.

Use it as a Resolver with the candidate as a third input (the DAG in pipeline/dag.py does):

    Resolver(strategy_class=LatestBlessedExceptCandidateStrategy, model=Channel(type=Model),
             model_blessing=Channel(type=ModelBlessing), candidate=trainer.outputs["model"])
"""
from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver

from components import artifacts

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


def latest_blessed_other_than(
    candidate_id: int, models: List[types.Artifact], blessings: List[types.Artifact]
) -> Optional[tuple]:
    """(model, blessing) of the blessed model with the highest id except `candidate_id`, or None.

    A blessing names its model by the custom properties `artifacts.BLESSED_PROPERTY` and
    `artifacts.BLESSED_MODEL_ID_PROPERTY`, which the PromotionGate writes as TFX's Evaluator does."""
    blessing_by_model = artifacts.blessings_by_model(blessings)
    for model in sorted(models, key=lambda artifact: artifact.id, reverse=True):
        if model.id != candidate_id and model.id in blessing_by_model:
            return model, blessing_by_model[model.id]
    return None


class LatestBlessedExceptCandidateStrategy(resolver.ResolverStrategy):
    """Resolves `model` and `model_blessing` to the latest blessed model that is not `candidate`."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, List[types.Artifact]]:
        del store  # every artifact needed is in input_dict
        if set(input_dict) != {MODEL_KEY, BLESSING_KEY, CANDIDATE_KEY}:
            raise ValueError(f"Expected the inputs {MODEL_KEY}, {BLESSING_KEY} and {CANDIDATE_KEY}; got {sorted(input_dict)}.")
        candidates = input_dict[CANDIDATE_KEY]
        found = latest_blessed_other_than(candidates[0].id, input_dict[MODEL_KEY], input_dict[BLESSING_KEY]) if candidates else None
        model, blessing = ([found[0]], [found[1]]) if found else ([], [])
        return {MODEL_KEY: model, BLESSING_KEY: blessing, CANDIDATE_KEY: candidates}
