"""Policy files: the shipped ones load, bad ones are refused by key."""

import pathlib
import subprocess
import sys

import pytest

from pipeline.policy import PolicyError, load_policy, parse_policy
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "pipeline" / "policies").glob("*.toml"))

RULE = '[[group_rules]]\nmetric = "fnr"\ngroups = ["sex,class"]\n'


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as error:
        parse_policy(text, "policy.toml")
    return str(error.value)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policies_load(path):
    assert load_policy(path).threshold == 0.5


def test_unknown_metric_is_named_with_the_known_ones():
    message = refused(RULE.replace('"fnr"', '"recall"') + "max = 0.5\n")
    assert "group_rules[0].metric: unknown metric 'recall'" in message
    assert "false_negative_rate" in message


def test_unknown_overall_metric():
    message = refused("[overall]\nauroc = { min = 0.8 }\n")
    assert "overall: unknown metric 'auroc'; known: auc, binary_accuracy" \
        in message


def test_unknown_slice_feature():
    message = refused(RULE.replace("sex,class", "sex,clas") + "max = 0.5\n")
    assert "unknown slice feature 'clas'; known: sex, class" in message


def test_unknown_slice_value_in_reference():
    message = refused(
        RULE + 'max_difference = 0.2\nreference = "class=Fourth"\n')
    assert "group_rules[0].reference: unknown value 'Fourth' for class" \
        in message


def test_threshold_must_be_evaluated():
    message = refused("threshold = 0.3\n")
    assert "threshold 0.3 is not evaluated; choose one of 0.1, 0.5, 0.9" \
        in message


@pytest.mark.parametrize("line, what", [
    ("max = 1.5", "max = 1.5 is outside [0, 1]"),
    ("min = -0.1", "min = -0.1 is outside [0, 1]"),
    ("max_difference = 2.0", "max_difference = 2.0 is outside [0, 1]"),
])
def test_bounds_outside_unit_interval(line, what):
    assert what in refused(RULE + line + "\n")


def test_overall_bound_outside_unit_interval():
    assert "overall.auc: max = 1.2 is outside [0, 1]" in refused(
        "[overall]\nauc = { max = 1.2 }\n")


def test_lower_above_upper():
    message = refused(RULE + "min = 0.6\nmax = 0.4\n")
    assert "group_rules[0]: min 0.6 is above max 0.4" in message


def test_unknown_key_is_named():
    assert "unknown key 'maxx' in group_rules[0]" in refused(
        RULE + "maxx = 0.4\n")


def test_interval_rule_needs_intervals():
    message = refused("confidence_intervals = false\n" + RULE
                      + 'max = 0.5\ngate_on = "upper_bound"\n')
    assert "needs confidence_intervals = true" in message


def test_invalid_toml_is_reported():
    assert "is not valid TOML" in refused("threshold = \n")


def test_runner_refuses_a_bad_policy_before_starting(tmp_path):
    policy = tmp_path / "bad.toml"
    policy.write_text("threshold = 0.3\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), "--policy", str(policy),
         "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 2
    assert "threshold 0.3 is not evaluated" in result.stderr
    assert not (tmp_path / "out" / "metadata.sqlite").exists()
    assert not pathlib.Path(tmp_path / "out" / "pipeline").exists()
