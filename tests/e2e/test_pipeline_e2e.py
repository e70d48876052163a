"""The whole pipeline on the shipped data, through `python runner.py`.

One output folder is shared by a sequence of runs: a cold run, two re-runs
of the unchanged pipeline, a run whose model the Evaluator does not bless,
and a run on data that breaks the schema. Each test checks one of them.
"""

import csv
import hashlib
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from components.model import features
from pipeline import config, run_summary
from pipeline.evaluation import fairness_metric_key
from tests.conftest import ROOT, SHIPPED_DATA, make_example, read_rows

pytestmark = pytest.mark.e2e

BUDGET = ["--max-trials", "6", "--max-epochs", "3"]
CACHEABLE_UP_TO_TRAINER = [
    "CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator",
    "DataValidationGate", "Tuner", "Trainer",
]
ALL_NODES = CACHEABLE_UP_TO_TRAINER + [
    "latest_blessed_model_resolver", "Evaluator", "Pusher"]


def run_pipeline(output_dir, *extra):
    command = [sys.executable, str(ROOT / "runner.py"),
               "--output-dir", str(output_dir), *BUDGET, *extra]
    return subprocess.run(command, capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def snapshot(folder: pathlib.Path):
    """Every file under `folder` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


class Run:
    def __init__(self, output_dir, *extra):
        self.process = run_pipeline(output_dir, *extra)
        self.output = self.process.stdout + self.process.stderr
        self.summary = run_summary.collect(
            str(output_dir / "metadata.sqlite"),
            serving_model_dir=str(output_dir / "serving_model"))

    def states(self):
        return {c.node_id: c.state for c in self.summary.components}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("pipeline")
    serving = output_dir / "serving_model"
    result = {"dir": output_dir}

    result["cold"] = Run(output_dir)
    result["second"] = Run(output_dir)
    result["third"] = Run(output_dir)

    result["before_blocked"] = snapshot(serving)
    result["blocked"] = Run(output_dir, "--auc-floor", "0.99")
    result["after_blocked"] = snapshot(serving)

    bad_data = output_dir / "bad" / "titanic.csv"
    bad_data.parent.mkdir()
    rows = read_rows(SHIPPED_DATA)
    rows[0]["sex"] = "M"
    with open(bad_data, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    result["bad_data"] = Run(output_dir, "--data", str(bad_data))
    result["after_bad_data"] = snapshot(serving)
    return result


def test_cold_run_executes_every_component(runs):
    cold = runs["cold"]
    assert cold.process.returncode == 0, cold.output
    assert cold.states() == {node: "ran" for node in ALL_NODES}


def test_run_fetches_nothing_from_the_network(runs):
    log_line = next(line for line in runs["cold"].process.stdout.splitlines()
                    if line.startswith("Log: "))
    log = pathlib.Path(log_line[len("Log: "):]).read_text()
    assert "Component Pusher is finished" in log
    assert "Downloading" not in log and "prism" not in log.lower()


def test_evaluation_holds_the_six_sex_class_slices_at_each_threshold(runs):
    summary = runs["cold"].summary
    crossed = summary.crossed_slices()
    groups = {(dict(s.slice_key)["sex"], dict(s.slice_key)["class"])
              for s in crossed}
    assert groups == {
        (sex, cls) for sex in features.VOCABULARIES["sex"]
        for cls in features.VOCABULARIES["class"]}

    overall = summary.slice()
    assert sum(s.get("example_count") for s in crossed) == overall.get(
        "example_count")
    for s in [overall] + crossed:
        for threshold in config.THRESHOLDS:
            for metric in ("false_positive_rate", "false_negative_rate"):
                value = s.get(fairness_metric_key(metric, threshold))
                assert 0.0 <= value <= 1.0, (s.name, metric, threshold)
    for feature in config.SLICE_FEATURES:
        for value in features.VOCABULARIES[feature]:
            assert summary.slice(**{feature: value}) is not None


def test_error_rates_move_with_the_threshold(runs):
    overall = runs["cold"].summary.slice()
    fpr = [overall.get(fairness_metric_key("false_positive_rate", t))
           for t in config.THRESHOLDS]
    fnr = [overall.get(fairness_metric_key("false_negative_rate", t))
           for t in config.THRESHOLDS]
    assert fpr == sorted(fpr, reverse=True) and fpr[0] > fpr[-1]
    assert fnr == sorted(fnr) and fnr[0] < fnr[-1]


def test_summary_names_tuning_slices_blessing_and_destination(runs):
    cold = runs["cold"]
    summary = cold.summary
    assert summary.trial_count == 6
    assert set(summary.best_hyperparameters) == {
        "units", "activation", "learning_rate"}
    assert summary.blessed is True
    assert summary.pushed is True
    text = cold.process.stdout
    for s in summary.crossed_slices():
        assert s.name in text
    assert "BLESSED" in text
    assert f"pushed to {summary.pushed_to}" in text
    assert "Tuner" in text and "Evaluator" in text  # progress lines


def test_pushed_model_scores_a_raw_example(runs):
    pushed_to = runs["cold"].summary.pushed_to
    assert pathlib.Path(pushed_to).parent == runs["dir"] / "serving_model"
    signature = tf.saved_model.load(pushed_to).signatures["serving_default"]
    row = read_rows(SHIPPED_DATA)[0]
    row = {k: v for k, v in row.items() if k != features.LABEL}
    output = signature(examples=tf.constant([make_example(row)]))
    probability = output[features.SERVING_OUTPUT].numpy()
    assert probability.shape == (1, 1)
    assert 0.0 < float(probability[0, 0]) < 1.0


def test_rerun_takes_example_gen_through_trainer_from_cache(runs):
    second = runs["second"]
    assert second.process.returncode == 0, second.output
    states = second.states()
    assert {n: states[n] for n in CACHEABLE_UP_TO_TRAINER} == {
        n: "cached" for n in CACHEABLE_UP_TO_TRAINER}


def test_third_run_is_fully_cached(runs):
    third = runs["third"]
    assert third.process.returncode == 0, third.output
    states = third.states()
    executing = [n for n in ALL_NODES if n != "latest_blessed_model_resolver"]
    assert {n: states[n] for n in executing} == {
        n: "cached" for n in executing}


def test_unblessed_model_is_not_pushed_and_serving_is_untouched(runs):
    blocked = runs["blocked"]
    assert blocked.process.returncode == 0, blocked.output
    assert blocked.summary.blessed is False
    assert any("auc" in r and "0.990" in r
               for r in blocked.summary.blessing_reasons)
    assert blocked.summary.pushed is False
    assert "NOT BLESSED" in blocked.process.stdout
    assert runs["after_blocked"] == runs["before_blocked"]
    assert runs["before_blocked"]  # there was a pushed model to protect


def test_schema_anomaly_stops_the_run_before_training(runs):
    bad = runs["bad_data"]
    assert bad.process.returncode == 1
    assert "column 'sex'" in bad.process.stdout
    assert "anomal" in bad.process.stdout
    states = bad.states()
    assert states["DataValidationGate"] == "failed"
    assert "Tuner" not in states and "Trainer" not in states
    assert runs["after_bad_data"] == runs["before_blocked"]


def test_failed_run_leaves_metadata_readable(runs):
    store = run_summary.open_store(str(runs["dir"] / "metadata.sqlite"))
    run_ids = [c.name for c in store.get_contexts_by_type("pipeline_run")]
    assert len(run_ids) == 5
    first = run_summary.collect(
        str(runs["dir"] / "metadata.sqlite"), run_id=sorted(run_ids)[0])
    assert first.pushed is True
    assert np.isfinite(first.slice().get("auc"))
