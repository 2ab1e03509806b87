"""The ErrorAnalysis step: TFX glue over `analyze.analyze_errors`.

It runs after the Evaluator on the candidate model, blessed or not (a refused model is the one
whose mistakes a person most wants to see), and before the PromotionGate, which judges the
candidate on the eval split without leaked images from what this step counts.
"""
from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import path_utils

from components import artifacts, features
from components.error_analysis.analyze import AnalysisOptions, analyze_errors
from components.promotion_gate.tfma_metrics import confusion_at_thresholds, evaluated_models

InputArtifact = annotations.InputArtifact
OutputArtifact = annotations.OutputArtifact
Parameter = annotations.Parameter


@component
def ErrorAnalysis(
    examples: InputArtifact[standard_artifacts.Examples],
    model: InputArtifact[standard_artifacts.Model],
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    quality: InputArtifact[artifacts.DataQualityReport],
    analysis: OutputArtifact[artifacts.ErrorAnalysis],
    top_losses: Parameter[int],
    confused_pairs: Parameter[int],
    images_per_pair: Parameter[int],
) -> None:
    """What the exported model gets wrong on the eval split, with images.

    The parameters are `AnalysisOptions.parameters()`. Writes artifacts.ERROR_ANALYSIS_FILE and
    its thumbnails and heatmaps into `analysis`; the precision and recall at confidence thresholds
    come from the Evaluator's MultiClassConfusionMatrixAtThresholds. With eval images that are
    also in train (`quality`), it adds the confusion matrix without them for the PromotionGate.
    """
    import tensorflow as tf

    options = AnalysisOptions(top_losses, confused_pairs, images_per_pair)
    class_names = artifacts.read_class_names(examples.uri)
    served = tf.saved_model.load(path_utils.serving_model_path(model.uri))
    candidate, _ = evaluated_models(evaluation.uri)
    result = analyze_errors(
        served,
        artifact_utils.get_split_uri([examples], features.EVAL_SPLIT) + "/*",
        class_names,
        analysis.uri,
        options,
        thresholds=confusion_at_thresholds(evaluation.uri, candidate),
        leaked=artifacts.read_json(quality.uri, artifacts.DATA_QUALITY_FILE)["leaked_eval_images"],
    )
    artifacts.write_json(analysis.uri, artifacts.ERROR_ANALYSIS_FILE, result)
