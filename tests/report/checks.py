"""Independent checks of a written fairness report, shared by the report
tests (and by any test that has a report and the predictions behind it).

The rates are recomputed with scikit-learn's confusion_matrix, not with TFMA,
and compared with the numbers the page embeds in `<script id="report-data">`.
"""

import json
import math
import pathlib
import re
from typing import Dict, Optional, Sequence

import pandas as pd
from sklearn.metrics import confusion_matrix

from components.model import features

_DATA = re.compile(
    r'<script type="application/json" id="report-data">(.*?)</script>',
    re.DOTALL)


def read_report_data(path: pathlib.Path) -> dict:
    """The JSON the report embeds: exactly the numbers the page shows."""
    match = _DATA.search(pathlib.Path(path).read_text(encoding="utf-8"))
    assert match, f"{path} embeds no <script id=\"report-data\">"
    return json.loads(match.group(1))


def _ratio(numerator: int, denominator: int) -> Optional[float]:
    return numerator / denominator if denominator else None


def recompute_rates(labels, probabilities, threshold: float
                    ) -> Dict[str, Optional[float]]:
    """Rates at one threshold; a probability above it counts as positive
    (TFMA compares with '>'). None where the denominator is zero."""
    predicted = (pd.Series(probabilities) > threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(
        pd.Series(labels).astype(int), predicted, labels=[0, 1]).ravel()
    total = tn + fp + fn + tp
    return {
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, fn + tp),
        "true_positive_rate": _ratio(tp, tp + fn),
        "true_negative_rate": _ratio(tn, tn + fp),
        "precision": _ratio(tp, tp + fp),
        "positive_rate": _ratio(tp + fp, total),
    }


def assert_report_matches_predictions(
    report_path: pathlib.Path,
    predictions_csv: pathlib.Path,
    label: str = features.LABEL,
    prediction: str = "predicted",
    tolerance: float = 1e-6,
) -> int:
    """Checks every slice, metric and threshold of the report against the
    predictions table; returns how many values were compared."""
    data = read_report_data(report_path)
    table = pd.read_csv(predictions_csv, keep_default_na=False,
                        na_values=[""])
    assert data["slices"], "the report shows no slices"

    compared = 0
    for record in data["slices"]:
        mask = pd.Series(True, index=table.index)
        for column, value in record["features"].items():
            mask &= table[column].astype(str) == value
        rows = table[mask]
        name = record["name"]
        assert record["example_count"] == len(rows), (
            f"{name}: report counts {record['example_count']} examples, "
            f"the predictions hold {len(rows)}")

        for threshold, label_text in zip(data["thresholds"],
                                         data["threshold_labels"],
                                         strict=True):
            expected = recompute_rates(rows[label], rows[prediction],
                                       threshold)
            for metric in data["metrics"]:
                shown = record["values"][metric][label_text]
                want = expected[metric]
                where = f"{name}, {metric}@{label_text}"
                if want is None:
                    assert shown is None, f"{where}: {shown}, expected n/a"
                else:
                    assert shown is not None, f"{where}: n/a, expected {want}"
                    assert math.isclose(shown, want, abs_tol=tolerance), (
                        f"{where}: report shows {shown}, recomputed {want}")
                compared += 1
    return compared


def slice_values(data: dict, name: str, metric: str) -> Dict[str, float]:
    """threshold label -> value of one slice and metric in report data."""
    record = next((s for s in data["slices"] if s["name"] == name), None)
    assert record, f"no slice {name!r}; slices: " + ", ".join(
        s["name"] for s in data["slices"])
    return record["values"][metric]


def names(data: dict) -> Sequence[str]:
    return [s["name"] for s in data["slices"]]
