"""Fixtures of the report tests: a hand-made predictions table whose rates
are worked out by hand, and the artifacts of a finished pipeline run.

`pipeline_artifacts` points into the cold run of the session's pipeline
runs (`pipeline_runs`, tests/conftest.py).
"""

import dataclasses
import pathlib

import pandas as pd
import pytest

from components import predictions
from pipeline import drilldown, report

# sex, class, survived, predicted. Row 5 sits exactly on the 0.5 threshold;
# class=Second has no survivors, so its false negative rate is undefined.
HANDMADE_ROWS = [
    ("female", "First", 1, 0.95),
    ("female", "First", 1, 0.60),
    ("female", "First", 0, 0.55),
    ("female", "Third", 1, 0.40),
    ("female", "Third", 0, 0.50),
    ("female", "Third", 0, 0.05),
    ("male", "First", 1, 0.92),
    ("male", "First", 0, 0.30),
    ("male", "Third", 0, 0.08),
    ("male", "Third", 0, 0.95),
    ("male", "Third", 1, 0.20),
    ("male", "Third", 0, 0.12),
    ("male", "Second", 0, 0.70),
    ("female", "Second", 0, 0.20),
]

HANDMADE_VERDICT = report.Verdict(blessed=False, rules=[
    {"rule": "fnr-ceiling", "slice": "sex=male, class=Third",
     "metric": "false_negative_rate@0.5", "value": 1.0, "bound": 0.6,
     "support": 1, "outcome": "fail",
     "message": "FNR 1.000 is above 0.600"},
    {"rule": "fpr-ceiling", "slice": "sex=female",
     "metric": "false_positive_rate@0.5", "value": 0.25, "bound": 0.4,
     "support": 4, "outcome": "pass", "message": ""},
    {"rule": "fnr-ceiling", "slice": "class=Second",
     "metric": "false_negative_rate@0.5", "value": None, "bound": 0.6,
     "support": 0, "outcome": "insufficient",
     "message": "no survivors in the slice; 5 needed"},
])


@dataclasses.dataclass(frozen=True)
class PipelineArtifacts:
    """Paths into one finished pipeline run."""

    root: pathlib.Path
    evaluation: pathlib.Path
    blessing: pathlib.Path
    model: pathlib.Path
    eval_examples: str
    train_examples: str
    best_hyperparameters: pathlib.Path
    tuner_results: pathlib.Path


@pytest.fixture(scope="session")
def pipeline_artifacts(pipeline_runs) -> PipelineArtifacts:
    """The artifacts of the session's cold pipeline run."""
    cold = pipeline_runs["cold"]
    examples = pathlib.Path(cold.output_of("CsvExampleGen", "examples"))
    return PipelineArtifacts(
        root=pipeline_runs["dir"] / "pipeline",
        evaluation=pathlib.Path(cold.output_of("Evaluator", "evaluation")),
        blessing=pathlib.Path(cold.output_of("FairnessGate", "blessing")),
        model=pathlib.Path(cold.output_of("Trainer", "model")),
        eval_examples=str(examples / "Split-eval" / "*.gz"),
        train_examples=str(examples / "Split-train" / "*.gz"),
        best_hyperparameters=pathlib.Path(
            cold.output_of("Tuner", "best_hyperparameters")),
        tuner_results=pathlib.Path(cold.output_of("Tuner", "tuner_results")),
    )


@pytest.fixture(scope="session")
def pipeline_predictions(pipeline_artifacts, tmp_path_factory
                         ) -> pathlib.Path:
    """predictions.csv of the run's eval split, scored by its model."""
    path = tmp_path_factory.mktemp("predictions") / "predictions.csv"
    predictions.export_predictions(
        pipeline_artifacts.eval_examples,
        str(pipeline_artifacts.model / "Format-Serving"), str(path))
    return path


def report_path_of(run) -> pathlib.Path:
    """The report a runner.py run named in its summary."""
    line = next(line for line in run.process.stdout.splitlines()
                if line.startswith("Report:"))
    return pathlib.Path(line.split(":", 1)[1].strip())


@pytest.fixture(scope="session")
def pipeline_report(pipeline_runs) -> pathlib.Path:
    """The report `python runner.py` wrote for the default-policy run: its
    metrics, the training split's balance, tuning, and the gate's verdict
    with every rule."""
    return report_path_of(pipeline_runs["default"])


@pytest.fixture(scope="session")
def handmade_csv(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("handmade") / "predictions.csv"
    pd.DataFrame(HANDMADE_ROWS, columns=[
        "sex", "class", "survived", "predicted"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def handmade_slices(handmade_csv):
    return drilldown.evaluate_table(handmade_csv)


@pytest.fixture(scope="session")
def handmade_report(handmade_csv, handmade_slices) -> pathlib.Path:
    """A report with every section: TFMA on the hand-made table, a verdict
    with each outcome, a data balance and a tuning summary."""
    data = report.ReportData(
        title="Hand-made <fairness> report",
        slices=handmade_slices,
        verdict=HANDMADE_VERDICT,
        data_balance=[
            report.BalanceRow("female", "First", 3, 1),
            report.BalanceRow("male", "Third", 1, 7),
        ],
        tuning=report.TuningSummary(
            trials=4, best_hyperparameters={"units": 16, "lr": 0.01},
            best_validation_auc=0.81),
    )
    return report.write_report(handmade_csv.parent / "report.html", data)
