"""The tuning section of the run report: every trial's values, objective and time, the winner marked."""
from __future__ import annotations

from typing import List

from components.contracts.training import Trial
from components.reporting import html


def tuning_section(trials: List[Trial]) -> str:
    """`trials` is the Tuner's trials.json."""
    names = sorted({name for trial in trials for name in trial.values})
    rows = []
    for trial in sorted(trials, key=lambda t: (t.objective is None, -(t.objective or 0))):
        objective = "failed" if trial.objective is None else f"{trial.objective:.3f}"
        rows.append(
            [
                ("best: " if trial.best else "") + str(trial.trial_id),
                objective,
                *[trial.values.get(name, "") for name in names],
                "" if trial.seconds is None else f"{trial.seconds:.0f} s",
            ]
        )
    intro = (
        f"<p>{len(trials)} trials of TFX's Tuner (KerasTuner random search), each scored by the best "
        "validation balanced accuracy of its epochs; the Trainer trains with the best trial's values.</p>"
    )
    return html.section(
        "Tuning", intro, html.table(["trial", "val. balanced accuracy", *names, "time"], rows)
    )
