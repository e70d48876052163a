"""The report and drill-down from the command line, on the session's
pipeline runs."""

import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.report.checks import read_report_data
from tests.report.conftest import report_path_of

pytestmark = pytest.mark.e2e


def runner(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_every_completed_run_names_its_report(pipeline_runs):
    for name in ("cold", "second", "default", "strict", "worse"):
        path = report_path_of(pipeline_runs[name])
        assert path.is_file(), name
        assert path.parent == pipeline_runs["dir"] / "reports"


def test_report_carries_the_gate_verdict(pipeline_runs, pipeline_report):
    data = read_report_data(pipeline_report)
    decision = pipeline_runs["default"].summary.decision
    assert data["verdict"]["blessed"] is False
    assert len(data["verdict"]["rules"]) == len(decision["rules"])


def test_slice_command_marks_false_positives_and_negatives(pipeline_runs):
    result = runner("slice", "--output-dir", str(pipeline_runs["dir"]),
                    "--where", "sex=male,class=Second", "--threshold", "0.5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    head = next(line for line in lines if line.startswith("sex=male, class="))
    assert "FNR" in head and "FPR" in head
    body = [line for line in lines if " male " in f" {line} "]
    assert body and all("Second" in line for line in body)
    marked = [line for line in body if "false negative" in line]
    fn_count = int(head.split("FN ")[1].split(";")[0])
    assert len(marked) == fn_count


def test_slice_command_names_a_bad_value(pipeline_runs):
    result = runner("slice", "--output-dir", str(pipeline_runs["dir"]),
                    "--where", "class=Fourth")
    assert result.returncode == 2
    assert "unknown value 'Fourth' for class" in result.stderr


def test_fairness_command_reports_any_table(pipeline_runs, tmp_path):
    cold = pipeline_runs["cold"]
    predictions = ROOT / cold.output_of("PredictionsExporter", "predictions")
    table = pd.read_csv(predictions / "predictions.csv")
    table = table.rename(columns={"predicted": "score", "survived": "truth"})
    csv = tmp_path / "scored.csv"
    table.to_csv(csv, index=False)
    out = tmp_path / "report.html"
    result = runner("fairness", "--output-dir", str(tmp_path),
                    "--csv", str(csv), "--label", "truth",
                    "--prediction", "score", "--slice", "sex,class",
                    "--thresholds", "0.1,0.5,0.9", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"Report: {out}" in result.stdout
    data = read_report_data(out)
    names = {s["name"] for s in data["slices"]}
    assert "sex=male, class=Third" in names and "overall" in names


def test_fairness_command_names_a_missing_column(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("sex,truth\nmale,1\n")
    result = runner("fairness", "--output-dir", str(tmp_path), "--csv",
                    str(csv), "--label", "truth", "--prediction", "score",
                    "--slice", "sex")
    assert result.returncode == 2
    assert "score" in result.stderr
