"""The numbers the report shows equal rates recomputed independently
(scikit-learn) and, on a hand-made table, rates worked out by hand."""

import math

import pytest

from pipeline import drilldown, report
from tests.report.checks import (
    assert_report_matches_predictions,
    names,
    read_report_data,
    slice_values,
)

FPR, FNR = "false_positive_rate", "false_negative_rate"

# Worked out by hand from HANDMADE_ROWS in conftest.py; None: undefined.
HAND_AT_HALF = {
    # slice: (examples, FPR@0.5, FNR@0.5)
    "overall": (14, 3 / 9, 2 / 5),
    "sex=female": (7, 1 / 4, 1 / 3),
    "sex=male": (7, 2 / 5, 1 / 2),
    "class=First": (5, 1 / 2, 0.0),
    "class=Second": (2, 1 / 2, None),
    "class=Third": (7, 1 / 5, 1.0),
    "sex=female, class=First": (3, 1.0, 0.0),
    "sex=female, class=Second": (1, 0.0, None),
    "sex=female, class=Third": (3, 0.0, 1.0),
    "sex=male, class=First": (2, 0.0, 0.0),
    "sex=male, class=Second": (1, 1.0, None),
    "sex=male, class=Third": (4, 1 / 3, 1.0),
}


def _close(shown, expected):
    if expected is None:
        return shown is None
    return shown is not None and math.isclose(shown, expected, abs_tol=1e-6)


def test_handmade_report_shows_the_rates_worked_out_by_hand(
        handmade_report):
    data = read_report_data(handmade_report)
    assert names(data) == list(HAND_AT_HALF)
    for record in data["slices"]:
        count, fpr, fnr = HAND_AT_HALF[record["name"]]
        assert record["example_count"] == count, record["name"]
        assert _close(record["values"][FPR]["0.5"], fpr), record["name"]
        assert _close(record["values"][FNR]["0.5"], fnr), record["name"]

    overall_fpr = slice_values(data, "overall", FPR)
    overall_fnr = slice_values(data, "overall", FNR)
    assert _close(overall_fpr["0.1"], 7 / 9)
    assert _close(overall_fnr["0.1"], 0.0)
    assert _close(overall_fpr["0.9"], 1 / 9)
    assert _close(overall_fnr["0.9"], 3 / 5)


def test_prediction_equal_to_threshold_counts_as_negative(handmade_report):
    # sex=female, class=Third holds a non-survivor scored exactly 0.5.
    data = read_report_data(handmade_report)
    fpr = slice_values(data, "sex=female, class=Third", FPR)
    assert fpr["0.5"] == 0.0
    assert fpr["0.1"] == 0.5


def test_handmade_report_matches_sklearn(handmade_report, handmade_csv):
    compared = assert_report_matches_predictions(
        handmade_report, handmade_csv)
    assert compared == 12 * 3 * len(report.FAIRNESS_METRICS)


def test_pipeline_report_matches_sklearn_on_exported_predictions(
        pipeline_report, pipeline_predictions):
    compared = assert_report_matches_predictions(
        pipeline_report, pipeline_predictions)
    assert compared == 12 * 3 * len(report.FAIRNESS_METRICS)


def test_evaluate_table_on_exported_predictions_equals_the_evaluator(
        pipeline_artifacts, pipeline_predictions):
    ours = drilldown.evaluate_table(pipeline_predictions)
    evaluator = report.slices_from_eval_result(pipeline_artifacts.evaluation)
    assert [s.name for s in ours] == [s.name for s in evaluator]
    for mine, theirs in zip(ours, evaluator, strict=True):
        assert mine.example_count == theirs.example_count, mine.name
        for metric, values in theirs.values.items():
            for label, value in values.items():
                assert _close(mine.value(metric, label), value), (
                    mine.name, metric, label)


def test_slices_from_eval_result_refuses_other_thresholds(
        pipeline_artifacts):
    with pytest.raises(ValueError, match=r"false_positive_rate@0\.25"):
        report.slices_from_eval_result(
            pipeline_artifacts.evaluation, thresholds=(0.25, 0.5))


def test_slices_from_eval_result_names_a_folder_without_metrics(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        report.slices_from_eval_result(tmp_path)
