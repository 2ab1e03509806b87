"""The model card: built from a run's records, in Model Card Toolkit's field names, its limitations
drawn from the findings, rendered offline in headless Chromium."""
import json
import re
import subprocess

from components.contracts.drift import DriftMeasure, DriftRecord
from components.contracts.model_card import ModelCard
from components.contracts.record import read, write
from components.label_balance.balance import analyze
from components.model_card.card import build_card
from components.model_card.options import ModelCardOptions
from components.model_card.render import card_html
from components.promotion_gate.gate import decision_record
from helpers import BROWSER_FLAGS, chromium

CLASSES = ["cat", "dog", "owl"]


def a_card(**options):
    # 120 eval images: cats and dogs well recognised; 4 owls, half of them taken for cats.
    balance = analyze(CLASSES, {"train": [300, 200, 12], "eval": [70, 46, 4]})
    confusion = {(0, 0): 68, (0, 1): 2, (1, 1): 44, (1, 0): 2, (2, 2): 2, (2, 0): 2}
    decision = decision_record(confusion, None, CLASSES, "cat", 70 / 120)
    drift = DriftRecord(
        compared=True, reason="this run's train images against those of the served model (/m/3)",
        previous_statistics="/s/2", previous_model="/m/3",
        measures=[DriftMeasure("brightness", "Jensen-Shannon divergence", 0.4, 0.1, True, "median brightness 0.30 -> 0.60")],
        findings=["brightness moved since the served model's training data: median brightness 0.30 -> 0.60 (...)"],
    )  # fmt: skip
    card = build_card(
        None, decision, balance, None, None, drift, {"dtype": "uint8", "layout": "NHWC", "shape": [None, 96, 96, 3]},
        "1796163754", "2026-12-01", "/serving/1796163754", ModelCardOptions(**options),
    )  # fmt: skip
    return card, decision


def test_the_card_uses_model_card_toolkits_field_names_and_reads_back(tmp_path):
    card, decision = a_card()
    write(card, str(tmp_path))
    values = json.loads((tmp_path / "model_card.json").read_text())
    assert set(values) == {"schema_version", "model_details", "model_parameters", "quantitative_analysis", "considerations"}
    assert set(values["model_details"]) >= {"name", "overview", "version"} and values["model_details"]["version"]["name"] == "1796163754"
    assert set(values["model_parameters"]) >= {"model_architecture", "data", "input_format", "output_format"}
    assert set(values["considerations"]) >= {"use_cases", "limitations", "tradeoffs"}
    assert read(ModelCard, str(tmp_path)) == card
    # The figures with their intervals, the baselines beside them.
    metrics = {(m["type"], m["slice"]): m for m in values["quantitative_analysis"]["performance_metrics"]}
    accuracy = metrics[("accuracy", "")]
    assert accuracy["value"] == decision.candidate.accuracy
    assert [accuracy["confidence_interval"]["lower_bound"], accuracy["confidence_interval"]["upper_bound"]] == decision.candidate.accuracy_interval
    assert metrics[("recall", "class: owl")]["value"] == 0.5 and metrics[("recall", "class: owl")]["confidence_interval"]
    assert metrics[("majority-class accuracy", "always 'cat'")]["value"] == 70 / 120
    assert {d["name"]: d["class_counts"] for d in values["model_parameters"]["data"]}["train"] == {"cat": 300, "dog": 200, "owl": 12}


def test_the_limitations_come_from_the_findings_in_plain_words():
    card, _ = a_card()
    limitations = [d.description for d in card.considerations.limitations]
    assert limitations[0].startswith("It answers one of its 3 classes for every image")
    assert any(line.startswith("Its figures come from 120 eval images: accuracy 0.950") for line in limitations)
    assert any("Too few eval images to vouch for 'owl' (4)" in line for line in limitations)
    assert any(line.startswith("Labels are severely imbalanced") for line in limitations)
    assert any(line.startswith("Drift: brightness moved") for line in limitations)
    # 'owl' is named once, as too few to judge, not again as "may miss most images".
    assert not any("may miss most images of 'owl'" in line for line in limitations)
    fewer, _ = a_card(min_eval_images_per_class=3)
    assert any("may miss most images of 'owl'" in d.description for d in fewer.considerations.limitations)


def test_the_card_renders_offline_in_headless_chromium(tmp_path):
    browser = chromium()
    card, _ = a_card()
    page = card_html(card)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched: one file that opens offline
    path = tmp_path / "model_card.html"
    path.write_text(page, encoding="utf-8")
    dom = subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
        check=True, capture_output=True, timeout=180,
    ).stdout.decode("utf-8", "replace")  # fmt: skip
    for text in ("Model card: image classifier", "Quantitative analysis", "Limitations", "Too few eval images", "1796163754"):
        assert text in dom, text
    # Every metric is a row, with its interval where it has one.
    assert dom.count("<tr>") >= len(card.quantitative_analysis.performance_metrics) + 1
    assert "95% interval" in dom
