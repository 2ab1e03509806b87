"""The ModelCard step: model_card.json and model_card.html of the candidate, and beside it in its
version folder when the Pusher pushed it.

It runs last, after EdgeExport, so the card holds the edge models' agreement too. The card is
built from the run's records (`card.build_card`) and rendered offline (`render.card_html`).
"""
import datetime
import json
import posixpath

import tensorflow as tf
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelBlessing, ModelRun, PushedModel
from tfx.utils import path_utils

from components import artifacts
from components.contracts import record
from components.contracts.balance import BalanceReport
from components.contracts.drift import DriftRecord
from components.contracts.edge import EdgeRecord
from components.contracts.evaluation import DecisionRecord
from components.contracts.quality import QualityRecord
from components.contracts.training import TrainingRecord
from components.model_card.card import build_card
from components.model_card.options import ModelCardOptions
from components.model_card.render import card_html


def _write_whole(directory: str, name: str, text: str) -> None:
    """Into a served version folder: a temporary file renamed over, so a reader never sees half."""
    path = posixpath.join(directory, name)
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        f.write(text)
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)


def _pushed_on(folder) -> str:
    """The day the Pusher published `folder` (its push record), so a card written again by a later
    run keeps its date; today for a model that was not pushed."""
    when = None
    if folder:
        pushed = posixpath.join(folder, artifacts.SERVING_EXTRA_DIR, artifacts.PUSH_RECORD_FILE)
        if tf.io.gfile.exists(pushed):
            when = json.loads(tf.io.gfile.GFile(pushed).read()).get("pushed_at")
    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc) if when else datetime.datetime.now(datetime.timezone.utc)
    return moment.date().isoformat()


@component
def ModelCard(
    model: InputArtifact[Model], model_run: InputArtifact[ModelRun], blessing: InputArtifact[ModelBlessing],
    balance: InputArtifact[artifacts.LabelBalanceReport], quality: InputArtifact[artifacts.DataQualityReport],
    pushed_model: InputArtifact[PushedModel], edge: InputArtifact[artifacts.EdgeModels],
    card: OutputArtifact[artifacts.ModelCardArtifact],
    options: Parameter[str],
    drift: InputArtifact[artifacts.DriftReport] = None,
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters; the optional input last
    """`options` is `ModelCardOptions.to_parameter()`."""
    pushed = pushed_model.get_int_custom_property(artifacts.PUSHED_PROPERTY) == 1
    folder = pushed_model.get_string_custom_property(artifacts.PUSHED_DESTINATION_PROPERTY) if pushed else None
    spec_path = posixpath.join(path_utils.serving_model_path(model.uri), artifacts.SERVING_EXTRA_DIR, artifacts.INPUT_SPEC_FILE)
    input_spec = json.loads(tf.io.gfile.GFile(spec_path).read()) if tf.io.gfile.exists(spec_path) else None
    result = build_card(
        training=record.read_if_present(TrainingRecord, model_run.uri),
        decision=record.read(DecisionRecord, blessing.uri),
        balance=record.read(BalanceReport, balance.uri),
        quality=record.read_if_present(QualityRecord, quality.uri),
        edge=record.read_if_present(EdgeRecord, edge.uri),
        drift=record.read_if_present(DriftRecord, drift.uri) if drift is not None else None,
        input_spec=input_spec,
        version=posixpath.basename(folder.rstrip("/")) if folder else "not pushed",
        date=_pushed_on(folder),
        path=folder,
        options=ModelCardOptions.from_parameter(options),
    )
    page = card_html(result)
    record.write(result, card.uri)
    artifacts.write_text(card.uri, artifacts.MODEL_CARD_HTML_FILE, page)
    if folder:
        _write_whole(folder, artifacts.MODEL_CARD_JSON_FILE, json.dumps(result.to_json(), indent=2))
        _write_whole(folder, artifacts.MODEL_CARD_HTML_FILE, page)
