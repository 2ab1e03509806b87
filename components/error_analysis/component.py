"""The ErrorAnalysis step: TFX glue over `analyze.analyze_errors`.

It runs after the Evaluator on the candidate model, blessed or not (a refused model is the one
whose mistakes a person most wants to see), and before the PromotionGate, which judges the
candidate on the eval split without leaked images from what this step counts.
"""
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples, Model, ModelEvaluation
from tfx.utils import path_utils

from components import artifacts, features
from components.contracts import record
from components.contracts.quality import QualityRecord
from components.error_analysis.analyze import analyze_errors
from components.error_analysis.options import AnalysisOptions
from components.promotion_gate.tfma_metrics import confusion_at_thresholds, evaluated_models


@component
def ErrorAnalysis(
    examples: InputArtifact[Examples], model: InputArtifact[Model], evaluation: InputArtifact[ModelEvaluation],
    quality: InputArtifact[artifacts.DataQualityReport],
    analysis: OutputArtifact[artifacts.ErrorAnalysis],
    options: Parameter[str],
    baseline_model: InputArtifact[Model] = None,
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters; the optional input last
    """What the exported model gets wrong on the eval split, with images.

    `options` is `AnalysisOptions.to_parameter()`. Writes error_analysis.json
    (`contracts.evaluation.ErrorAnalysisRecord`) and its thumbnails and heatmaps into `analysis`;
    the precision and recall at confidence thresholds
    come from the Evaluator's MultiClassConfusionMatrixAtThresholds. With eval images that are
    also in train (`quality`), it adds the confusion matrix without them for the PromotionGate;
    with a last blessed model (`baseline_model`), which images each of the two gets right.
    """
    import tensorflow as tf

    settings = AnalysisOptions.from_parameter(options)
    class_names = artifacts.read_class_names(examples.uri)
    served = tf.saved_model.load(path_utils.serving_model_path(model.uri))
    candidate, _ = evaluated_models(evaluation.uri)
    result = analyze_errors(
        served,
        artifact_utils.get_split_uri([examples], features.EVAL_SPLIT) + "/*",
        class_names,
        analysis.uri,
        settings,
        thresholds=confusion_at_thresholds(evaluation.uri, candidate),
        leaked=record.read(QualityRecord, quality.uri).leaked_eval_images,
        baseline=tf.saved_model.load(path_utils.serving_model_path(baseline_model.uri)) if baseline_model else None,
        baseline_uri=baseline_model.uri if baseline_model else None,
    )
    record.write(result, analysis.uri)
