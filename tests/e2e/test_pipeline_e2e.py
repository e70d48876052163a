"""The whole pipeline on the shipped data, through `python runner.py`.

The runs come from the `pipeline_runs` fixture (tests/conftest.py): a cold
run, two re-runs of the unchanged pipeline, runs under other policies, a
deliberately worse model and data that breaks the schema. Each test checks
one of them.
"""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from components.model import features
from pipeline import config, run_summary
from pipeline.evaluation import fairness_metric_key
from tests.conftest import SHIPPED_DATA, make_example, read_rows

pytestmark = pytest.mark.e2e

CACHEABLE_UP_TO_TRAINER = [
    "CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator",
    "DataValidationGate", "Tuner", "Trainer", "PredictionsExporter",
]
ALL_NODES = CACHEABLE_UP_TO_TRAINER + [
    "latest_blessed_model_resolver", "Evaluator", "FairnessGate", "Pusher"]


@pytest.fixture(scope="module")
def runs(pipeline_runs):
    return pipeline_runs


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
    failing = blocked.summary.outcomes("fail")
    assert [(r["rule"], r["bound"]) for r in failing] == [
        ("overall auc", ">= 0.99")]
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
    assert "blocked" not in bad.process.stdout
    assert "Tuner" not in states and "Trainer" not in states
    assert runs["after_all"] == runs["before_blocked"]


def test_failed_run_leaves_metadata_readable(runs):
    store = run_summary.open_store(str(runs["dir"] / "metadata.sqlite"))
    run_ids = [c.name for c in store.get_contexts_by_type("pipeline_run")]
    assert len(run_ids) == len(runs["order"])
    first = run_summary.collect(
        str(runs["dir"] / "metadata.sqlite"), run_id=sorted(run_ids)[0])
    assert first.pushed is True
    assert np.isfinite(first.slice().get("auc"))
