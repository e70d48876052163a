"""The fairness gate with the real Evaluator, on the session's pipeline runs
(tests/conftest.py `pipeline_runs`)."""

import json
import math

import pytest

from components.fairness_gate import read_metrics
from pipeline import evaluation
from pipeline.policy import load_policy
from tests.conftest import POLICIES

pytestmark = pytest.mark.e2e


def outcome_keys(run, state):
    return {(o["metric"], o["slice"]) for o in run.summary.outcomes(state)}


def test_default_policy_blocks_the_shipped_model_for_male_third_class(
        pipeline_runs):
    run = pipeline_runs["default"]
    assert run.process.returncode == 0, run.output
    assert run.summary.blessed is False
    assert run.summary.pushed is False
    failed = outcome_keys(run, "fail")
    assert ("FNR@0.5", "sex=male, class=Third") in failed
    assert ("FNR@0.5", "sex=male") in failed  # the gap to overall
    assert ("overall auc" not in
            {o["rule"] for o in run.summary.outcomes("fail")})
    assert "blocked: FNR@0.5 for sex=male, class=Third is" in \
        run.process.stdout


def test_default_policy_reports_small_groups_without_blocking(pipeline_runs):
    run = pipeline_runs["default"]
    small = [o for o in run.summary.outcomes("insufficient")
             if o["slice"] == "sex=female, class=First"
             and o["metric"] == "FPR@0.5"]
    assert len(small) == 1
    assert small[0]["support"] < small[0]["min_support"] == 20
    assert small[0]["blocks"] is False
    assert "not judged: FPR@0.5 for sex=female, class=First" in \
        run.process.stdout


def test_strict_policy_blocks_with_the_expected_reasons(pipeline_runs):
    run = pipeline_runs["strict"]
    assert run.process.returncode == 0, run.output
    assert run.summary.blessed is False
    blocking = {(o["rule"], o["slice"], o["outcome"])
                for o in run.summary.outcomes() if o["blocks"]}
    assert ("overall binary_accuracy", "overall", "fail") in blocking
    assert ("FPR per group (interval)", "sex=female, class=First",
            "insufficient") in blocking
    assert ("FNR per group (interval)", "sex=male, class=Third",
            "fail") in blocking
    assert ("FPR near overall", "sex=female", "fail") in blocking


def test_interval_rules_gate_on_the_upper_bound(pipeline_runs):
    run = pipeline_runs["strict"]
    interval_outcomes = [
        o for o in run.summary.outcomes("pass", "fail")
        if o["rule"].endswith("(interval)")]
    assert interval_outcomes
    for o in interval_outcomes:
        lower, upper = o["interval"]
        assert lower <= o["value"] <= upper
        assert (o["outcome"] == "fail") == (upper > 0.5), o


def test_decision_record_holds_every_rule(pipeline_runs):
    run = pipeline_runs["default"]
    with open(run.summary.decision_path) as f:
        record = json.load(f)
    assert record["blessed"] is False
    assert record["threshold"] == 0.5
    policy = load_policy(POLICIES / "default.toml")
    rules = {r["rule"] for r in record["rules"]}
    # The cold run's model, blessed earlier, is the baseline here.
    assert record["has_baseline"] is True
    assert rules == {"overall auc", "no auc regression"} | {
        r.label for r in policy.group_rules}
    for rule in record["rules"]:
        assert set(rule) >= {"rule", "slice", "value", "bound", "support",
                             "outcome"}
        assert rule["outcome"] in ("pass", "fail", "insufficient")
    crossed = {r["slice"] for r in record["rules"]
               if r["rule"] == "FNR per sex x class"}
    assert len(crossed) == 6  # no group dropped, however small


def test_worse_model_is_blocked_against_the_blessed_baseline(pipeline_runs):
    run = pipeline_runs["worse"]
    assert run.process.returncode == 0, run.output
    assert run.summary.decision["has_baseline"] is True
    assert run.summary.blessed is False
    regression = [o for o in run.summary.outcomes()
                  if o["rule"] == "no auc regression"]
    assert len(regression) == 1
    assert regression[0]["outcome"] == "fail"
    assert regression[0]["value"] < -0.02


def test_blocked_runs_leave_the_pushed_model_byte_identical(pipeline_runs):
    before = pipeline_runs["before_blocked"]
    assert before
    assert pipeline_runs["after_blocked"] == before
    assert pipeline_runs["after_worse"] == before
    assert pipeline_runs["after_all"] == before


@pytest.mark.parametrize("run_name, policy_file", [
    ("cold", "overall_only.toml"), ("default", "default.toml"),
    ("strict", "strict.toml")])
def test_every_threshold_key_is_a_computed_metric(
        pipeline_runs, run_name, policy_file):
    run = pipeline_runs[run_name]
    uri = run.output_of("Evaluator", "evaluation")
    metrics = read_metrics(uri)
    config = evaluation.make_eval_config(load_policy(POLICIES / policy_file))

    checked = 0
    for metric in config.metrics_specs[0].metrics:
        name = json.loads(metric.config or "{}").get("name") or {
            "AUC": "auc", "BinaryAccuracy": "binary_accuracy"}.get(
                metric.class_name)
        for threshold in metric.per_slice_thresholds:
            for spec in threshold.slicing_specs:
                keys = set(spec.feature_keys) | set(spec.feature_values)
                slices = [k for k, v in metrics.items()
                          if {n for n, _ in k} == keys]
                assert slices, (name, keys)
                for key in slices:
                    value = metrics[key].get(name)
                    assert value is not None, (name, key)
                    checked += 1
        if metric.cross_slice_thresholds:
            assert name in metrics[()], name
            checked += 1
    assert checked > 0
    assert not [o for o in run.summary.outcomes()
                if o["rule"] in ("TFMA threshold", "TFMA validation")]


def test_reported_intervals_contain_the_point_value(pipeline_runs):
    uri = pipeline_runs["default"].output_of("Evaluator", "evaluation")
    name = evaluation.gate_metric_name("false_negative_rate", 0.5)
    for values in read_metrics(uri).values():
        value = values[name]
        if math.isnan(value.value):
            continue
        assert value.lower is not None and value.upper is not None
        assert value.lower <= value.value <= value.upper
