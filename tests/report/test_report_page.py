"""What the written HTML holds, read without a browser."""

import pytest

from pipeline import report
from tests.report.checks import read_report_data


def test_plotly_js_is_inlined_once(handmade_report):
    page = handmade_report.read_text(encoding="utf-8")
    # plotly.min.js starts with this banner; the page must carry it once.
    assert page.count("plotly.js v") == 1
    assert "<script src=" not in page


def test_report_data_lists_every_section(handmade_report):
    data = read_report_data(handmade_report)
    assert data["title"] == "Hand-made <fairness> report"
    assert data["metrics"] == list(report.FAIRNESS_METRICS)
    assert data["threshold_labels"] == ["0.1", "0.5", "0.9"]
    assert data["charts"] == [report.FAIRNESS_CHART_ID,
                              report.BALANCE_CHART_ID]
    assert [r["outcome"] for r in data["verdict"]["rules"]] == [
        "fail", "pass", "insufficient"]
    assert data["data_balance"][0] == {
        "sex": "female", "class": "First", "survived": 3, "not_survived": 1}
    assert data["tuning"]["best_validation_auc"] == 0.81


def test_title_is_escaped(handmade_report):
    page = handmade_report.read_text(encoding="utf-8")
    assert "<h1>Hand-made &lt;fairness&gt; report</h1>" in page


def test_one_table_per_metric_with_differences_from_overall(
        handmade_report):
    page = handmade_report.read_text(encoding="utf-8")
    for metric in report.FAIRNESS_METRICS:
        assert f'class="fi-table" data-metric="{metric}"' in page
    assert page.count("&Delta; overall") == 3 * len(report.FAIRNESS_METRICS)


def test_verdict_rule_with_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="'skipped'"):
        report.Verdict(blessed=True, rules=[{
            "rule": "r", "slice": "overall", "metric": "m", "value": 0.1,
            "bound": 0.2, "support": 3, "outcome": "skipped",
            "message": ""}])


def test_verdict_rule_missing_keys_is_refused():
    with pytest.raises(ValueError, match="lacks bound, support"):
        report.Verdict(blessed=True, rules=[{
            "rule": "r", "slice": "overall", "metric": "m", "value": 0.1,
            "outcome": "pass", "message": ""}])


def test_report_without_slices_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one slice"):
        report.write_report(tmp_path / "r.html", report.ReportData("t", []))


def test_data_balance_counts_the_training_split(pipeline_artifacts):
    rows = report.data_balance_from_examples(
        pipeline_artifacts.train_examples)
    assert [(r.sex, r.passenger_class) for r in rows] == [
        (s, c) for s in ("female", "male")
        for c in ("First", "Second", "Third")]
    # Training split: 2 of every 3 of the 1309 passengers.
    assert 800 < sum(r.total for r in rows) < 950
    female_first = rows[0]
    assert female_first.survived > female_first.not_survived


def test_data_balance_names_patterns_that_match_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        report.data_balance_from_examples(str(tmp_path / "nothing-here*"))
