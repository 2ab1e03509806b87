"""The PromotionGate step: reads TFMA's evaluation and this run's label balance, writes the blessing.

The Evaluator's own thresholds are fixed when the pipeline is built, but the majority-class
baseline is a fact about this run's data, so the decision happens here, after the Evaluator:
the blessing this step writes is what the Pusher and the next run's model resolver read.
"""
from typing import Optional

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelBlessing, ModelEvaluation

from components import artifacts, features
from components.contracts import record
from components.contracts.balance import BalanceReport
from components.contracts.evaluation import ErrorAnalysisRecord, GateMetrics
from components.promotion_gate.gate import decision_record, metrics_from_confusion
from components.promotion_gate.options import GateThresholds
from components.promotion_gate.tfma_metrics import confusion_matrix, evaluated_models


def _baseline_metrics(evaluation_uri: str, model_name: Optional[str], class_names, confidence: float) -> Optional[GateMetrics]:
    if model_name is None:
        return None
    return metrics_from_confusion(confusion_matrix(evaluation_uri, model_name), class_names, confidence)


@component
def PromotionGate(
    evaluation: InputArtifact[ModelEvaluation], model: InputArtifact[Model],
    balance: InputArtifact[artifacts.LabelBalanceReport], analysis: InputArtifact[artifacts.ErrorAnalysis],
    blessing: OutputArtifact[ModelBlessing],
    majority_margin: Parameter[float], chance_margin: Parameter[float], max_regression: Parameter[float],
    confidence_level: Parameter[float],
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters
    """Blesses `model` only if it beats the majority class and chance by the lower bounds of its
    intervals, and shows no regression against the last blessed model.

    When eval images are also in train, the first two rules judge the eval split without them
    (the ErrorAnalysis step's `analysis` counts it); the comparison with the last blessed model
    stays on the whole eval split, the same images for both, image by image (`analysis` counts
    which images each model gets right).

    The parameters are `GateThresholds`' fields, one each (runtime parameters on Kubeflow /
    Vertex), taken by name. Writes decision.json (`contracts.evaluation.DecisionRecord`: the
    decision, each rule's reason, the candidate's and the baseline's metrics) and BLESSED or
    NOT_BLESSED into `blessing`, with the custom properties that TFX's Evaluator writes and its
    LatestBlessedModelStrategy reads (`artifacts.BLESSED_PROPERTY` and the model's id and uri).
    """
    thresholds = GateThresholds(
        majority_margin=majority_margin, chance_margin=chance_margin, max_regression=max_regression,
        confidence_level=confidence_level,
    )  # fmt: skip
    report = record.read(BalanceReport, balance.uri)
    eval_split = report.splits[features.EVAL_SPLIT]
    candidate_name, baseline_name = evaluated_models(evaluation.uri)
    errors = record.read(ErrorAnalysisRecord, analysis.uri)
    decision = decision_record(
        confusion_matrix(evaluation.uri, candidate_name),
        _baseline_metrics(evaluation.uri, baseline_name, report.class_names, confidence_level),
        report.class_names,
        eval_split.majority_class,
        eval_split.majority_fraction,
        thresholds,
        errors.leak_free,
        errors.paired,
    )
    record.write(decision, blessing.uri)
    artifacts.write_text(blessing.uri, artifacts.BLESSED_FILE if decision.blessed else artifacts.NOT_BLESSED_FILE, "")
    blessing.set_int_custom_property(artifacts.BLESSED_PROPERTY, int(decision.blessed))
    blessing.set_int_custom_property(artifacts.BLESSED_MODEL_ID_PROPERTY, model.id)
    blessing.set_string_custom_property(artifacts.BLESSED_MODEL_URI_PROPERTY, model.uri)
