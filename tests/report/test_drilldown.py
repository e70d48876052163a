"""Evaluating a predictions table and listing the passengers of a slice."""

import logging

import pandas as pd
import pytest

from pipeline import drilldown


def test_parse_where_reads_pairs():
    assert drilldown.parse_where("sex=male, class=Second") == {
        "sex": "male", "class": "Second"}


@pytest.mark.parametrize("text, message", [
    ("clas=First", "unknown column 'clas'.*known: sex, class"),
    ("sex=man", "unknown value 'man' for sex.*known: female, male"),
    ("sex", "expected column=value pairs"),
    ("sex=male,sex=female", "'sex' given twice"),
])
def test_parse_where_names_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        drilldown.parse_where(text)


def test_select_rows_marks_each_outcome(handmade_csv):
    selection = drilldown.select_rows(
        handmade_csv, {"sex": "male", "class": "Third"}, threshold=0.5)
    assert selection.rows["outcome"].tolist() == ["TN", "FP", "FN", "TN"]
    assert selection.rows["error"].tolist() == [
        "", "false positive", "false negative", ""]
    assert selection.counts == {"TP": 0, "FP": 1, "TN": 2, "FN": 1}
    assert selection.false_positive_rate == pytest.approx(1 / 3)
    assert selection.false_negative_rate == 1.0
    assert selection.example_count == 4
    text = selection.render()
    assert text.startswith("sex=male, class=Third at threshold 0.5: 4 ")
    assert "false negative" in text


def test_select_rows_threshold_is_exclusive(handmade_csv):
    selection = drilldown.select_rows(
        handmade_csv, {"sex": "female", "class": "Third"}, threshold=0.5)
    assert selection.rows["outcome"].tolist() == ["FN", "TN", "TN"]


def test_select_rows_without_positives_has_no_fnr(handmade_csv):
    selection = drilldown.select_rows(handmade_csv, {"class": "Second"})
    assert selection.false_negative_rate is None
    assert "FNR n/a" in selection.render()


def test_select_rows_names_a_value_no_row_has(handmade_csv):
    with pytest.raises(ValueError, match="no row .* has class=Fourth"):
        drilldown.select_rows(handmade_csv, {"class": "Fourth"})


def test_select_rows_on_exported_predictions(pipeline_predictions):
    selection = drilldown.select_rows(
        pipeline_predictions, drilldown.parse_where("sex=female"), 0.5)
    table = pd.read_csv(pipeline_predictions)
    assert selection.example_count == (table["sex"] == "female").sum()
    assert sum(selection.counts.values()) == selection.example_count


def test_evaluate_table_names_missing_columns(handmade_csv):
    with pytest.raises(ValueError, match="lacks column.*deck"):
        drilldown.evaluate_table(handmade_csv, slice_features=("sex", "deck"))


def test_evaluate_table_refuses_non_numeric_labels(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"survived": [1, "yes"], "predicted": [0.2, 0.9],
                  "sex": ["male", "female"], "class": ["First", "Third"]}
                 ).to_csv(path, index=False)
    with pytest.raises(ValueError, match="'survived'.*line 3 holds 'yes'"):
        drilldown.evaluate_table(path)


def test_evaluate_table_refuses_predictions_outside_0_1(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"survived": [1, 0], "predicted": [0.2, 3.5],
                  "sex": ["male", "female"], "class": ["First", "Third"]}
                 ).to_csv(path, index=False)
    with pytest.raises(ValueError, match="'predicted'.*in \\[0, 1\\]"):
        drilldown.evaluate_table(path)


def test_evaluate_table_runs_beam_without_prism(handmade_csv, caplog):
    # Beam 2.74's DirectRunner logs that it runs Prism and downloads it.
    with caplog.at_level(logging.INFO):
        slices = drilldown.evaluate_table(handmade_csv)
    assert slices
    mentions = [r.getMessage() for r in caplog.records
                if "prism" in r.getMessage().lower()
                or "downloading" in r.getMessage().lower()]
    assert not mentions
