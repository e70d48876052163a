"""Fairness metrics and error drill-down for a table that holds predictions.

`evaluate_table` runs TFMA with FairnessIndicators on a CSV of labels and
predicted probabilities (e.g. the predictions.csv that
`components.predictions.PredictionsExporter` writes) and returns the slices
`pipeline.report.write_report` shows. `select_rows` lists the passengers of
one slice with the outcome of each prediction at a threshold, so a person can
read which passengers make up a slice's false positives and negatives;
`parse_where` turns 'sex=male,class=Second' into the slice it names.
"""

import dataclasses
import json
import logging
import os
import tempfile
from typing import (
    TYPE_CHECKING,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

import pandas as pd
from tabulate import tabulate

from components.model import features
from pipeline import config, report
from pipeline.evaluation import FAIRNESS_MODULE

if TYPE_CHECKING:
    import tensorflow_model_analysis as tfma

logger = logging.getLogger(__name__)

# Column of the predicted probability in predictions.csv.
PREDICTION = "predicted"
OUTCOME = "outcome"
ERROR = "error"


def _read_table(csv_path: Union[str, os.PathLike]) -> pd.DataFrame:
    """Reads a CSV; only an empty field is a missing value."""
    if not os.path.exists(csv_path):
        raise FileNotFoundError(f"no table at {os.fspath(csv_path)}")
    return pd.read_csv(csv_path, keep_default_na=False, na_values=[""])


def _check_columns(table: pd.DataFrame, label: str, prediction: str,
                   slice_features: Sequence[str], source: str) -> None:
    """Raises ValueError naming missing columns, a label that is not 0/1 or
    a prediction that is not a probability."""
    wanted = [label, prediction, *slice_features]
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise ValueError(
            f"{source} lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, table.columns))}")

    for column, allowed in ((label, "0 or 1"), (prediction, "in [0, 1]")):
        numbers = pd.to_numeric(table[column], errors="coerce")
        if column == label:
            usable = numbers.isin([0, 1])
        else:
            usable = (numbers >= 0) & (numbers <= 1)
        bad = table[column][~usable]
        if not bad.empty:
            first = bad.iloc[0]
            shown = "nothing" if pd.isna(first) else repr(first)
            raise ValueError(
                f"column '{column}' of {source} must be numeric and "
                f"{allowed}; {len(bad)} row(s) are not, the first on line "
                f"{bad.index[0] + 2} holds {shown}")


def eval_config_for_table(
    label: str, prediction: str, slice_features: Sequence[str],
    thresholds: Sequence[float],
) -> "tfma.EvalConfig":
    """ExampleCount and FairnessIndicators; overall, each slice feature and
    all slice features crossed."""
    import tensorflow_model_analysis as tfma

    specs = [tfma.SlicingSpec()]
    specs += [tfma.SlicingSpec(feature_keys=[f]) for f in slice_features]
    if len(slice_features) > 1:
        specs.append(tfma.SlicingSpec(feature_keys=list(slice_features)))
    metrics = [
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(
            class_name="FairnessIndicators", module=FAIRNESS_MODULE,
            config=json.dumps({"thresholds": list(thresholds)})),
    ]
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key=label,
                                    prediction_key=prediction)],
        slicing_specs=specs,
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)])


def evaluate_table(
    csv_path: Union[str, os.PathLike],
    label: str = features.LABEL,
    prediction: str = PREDICTION,
    slice_features: Sequence[str] = config.SLICE_FEATURES,
    thresholds: Sequence[float] = config.THRESHOLDS,
) -> List[report.SliceRecord]:
    """Fairness metrics of a table that already holds predictions.

    Runs TFMA the way `tfma.analyze_raw_data` does, but on the local
    FnApiRunner (`config.LOCAL_BEAM_ARGS`), with ExampleCount and
    FairnessIndicators (a prediction above a threshold counts as positive),
    sliced overall, by each slice feature and by all of them crossed. The
    results go to a new temporary directory, as analyze_raw_data's do.

    Args:
      csv_path: CSV with a header row.
      label: column of the true label, 0 or 1 (default 'survived').
      prediction: column of the predicted probability (default
        'predicted').
      slice_features: columns to slice on (default sex, class).
      thresholds: decision thresholds (default 0.1, 0.5, 0.9).

    Returns:
      The slices for `pipeline.report.ReportData.slices`.

    Raises:
      ValueError: a column is missing, the label is not 0/1 or the
        prediction is not a probability.
    """
    import apache_beam as beam
    import pyarrow as pa
    import tensorflow_model_analysis as tfma
    from apache_beam.options.pipeline_options import PipelineOptions
    from tfx_bsl.arrow import table_util

    source = os.fspath(csv_path)
    table = _read_table(csv_path)
    _check_columns(table, label, prediction, slice_features, source)

    # Only the columns TFMA needs: the others may hold types Arrow would
    # have to guess. Slice values are text so that 'class=1' reads alike.
    frame = pd.DataFrame({
        label: pd.to_numeric(table[label]).astype("float64"),
        prediction: pd.to_numeric(table[prediction]).astype("float64"),
    })
    for name in slice_features:
        frame[name] = table[name].map(
            lambda v: None if pd.isna(v) else str(v))

    # One canonical Arrow record batch of the whole table, as
    # tfma.analyze_raw_data makes it.
    batch = table_util.CanonicalizeRecordBatch(
        pa.RecordBatch.from_pandas(frame))
    eval_config = eval_config_for_table(label, prediction, slice_features,
                                        thresholds)
    output_path = tempfile.mkdtemp()

    # analyze_raw_data's pipeline, but not its beam.Pipeline() without
    # options: with those Beam 2.74's DirectRunner first tries Prism, which
    # it downloads from GitHub at run time.
    logger.info("Evaluating %s rows of %s with TFMA into %s", len(frame),
                source, output_path)
    options = PipelineOptions(list(config.LOCAL_BEAM_ARGS))
    with beam.Pipeline(options=options) as pipeline:
        _ = (
            pipeline
            | "CreateRecordBatch" >> beam.Create([batch])
            | "ExtractEvaluateAndWriteResults"
            >> tfma.ExtractEvaluateAndWriteResults(
                eval_config=eval_config,
                output_path=output_path,
                writers=tfma.default_writers(output_path,
                                             eval_config=eval_config)))
    result = tfma.load_eval_result(output_path)
    return report.slices_from_tfma_result(
        result, thresholds, slice_features, source=source)


def parse_where(
    text: str,
    vocabularies: Mapping[str, Sequence[str]] = features.VOCABULARIES,
) -> Dict[str, str]:
    """Parses 'sex=male,class=Second' into {'sex': 'male', 'class': ...}.

    Args:
      text: comma-separated column=value pairs.
      vocabularies: the columns that may be named and their values.

    Raises:
      ValueError: a pair is malformed or repeated, or names an unknown column
        or value (the message lists the known ones).
    """
    where: Dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise ValueError(
                f"expected column=value pairs separated by commas, got "
                f"{part.strip()!r} in {text!r}")
        column, value = (s.strip() for s in part.split("=", 1))
        if column not in vocabularies:
            raise ValueError(
                f"unknown column {column!r} in {text!r}; known: "
                f"{', '.join(vocabularies)}")
        if value not in vocabularies[column]:
            raise ValueError(
                f"unknown value {value!r} for {column} in {text!r}; known: "
                f"{', '.join(vocabularies[column])}")
        if column in where:
            raise ValueError(f"column {column!r} given twice in {text!r}")
        where[column] = value
    return where


@dataclasses.dataclass
class Selection:
    """The passengers of one slice and how the model did on them.

    Attributes:
      where: the slice, e.g. {'sex': 'male', 'class': 'Second'}.
      threshold: predicted > threshold counts as 'survived'.
      rows: the slice's rows with `outcome` (TP, FP, TN, FN) and `error`
        ('false positive', 'false negative' or '') appended.
      counts: number of rows per outcome.
    """

    where: Dict[str, str]
    threshold: float
    rows: pd.DataFrame
    counts: Dict[str, int]

    @property
    def example_count(self) -> int:
        return len(self.rows)

    @property
    def false_positive_rate(self) -> Optional[float]:
        negatives = self.counts["FP"] + self.counts["TN"]
        return self.counts["FP"] / negatives if negatives else None

    @property
    def false_negative_rate(self) -> Optional[float]:
        positives = self.counts["FN"] + self.counts["TP"]
        return self.counts["FN"] / positives if positives else None

    def render(self) -> str:
        """A text table of the rows, false positives and negatives marked,
        under a line of the slice's rates and counts."""
        def rate(value):
            return "n/a" if value is None else f"{value:.3f}"

        name = report.slice_name(self.where, config.SLICE_FEATURES)
        head = (f"{name} at threshold {self.threshold:g}: "
                f"{self.example_count} passengers, "
                + ", ".join(f"{k} {v}" for k, v in self.counts.items())
                + f"; FPR {rate(self.false_positive_rate)}, "
                f"FNR {rate(self.false_negative_rate)}")
        shown = self.rows.copy()
        if PREDICTION in shown:
            shown[PREDICTION] = shown[PREDICTION].map(lambda p: f"{p:.3f}")
        shown = shown.fillna("")
        return head + "\n" + tabulate(
            shown, headers="keys", showindex=False, disable_numparse=True)


def select_rows(
    predictions_csv: Union[str, os.PathLike],
    where: Mapping[str, str],
    threshold: float = 0.5,
    label: str = features.LABEL,
    prediction: str = PREDICTION,
) -> Selection:
    """The rows of one slice, each with the outcome of its prediction.

    Args:
      predictions_csv: predictions.csv: the eval split's columns, the label
        and the predicted probability.
      where: column -> value the rows must match ({} is every row).
      threshold: predicted > threshold counts as positive, as in TFMA.
      label: column of the true label (default 'survived').
      prediction: column of the probability (default 'predicted').

    Raises:
      ValueError: a column is missing, the label or prediction is not
        usable, or `where` names a value no row has.
    """
    source = os.fspath(predictions_csv)
    table = _read_table(predictions_csv)
    _check_columns(table, label, prediction, list(where), source)

    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        present = table[column].dropna().astype(str)
        if value not in set(present):
            raise ValueError(
                f"no row of {source} has {column}={value}; values there: "
                f"{', '.join(sorted(set(present)))}")
        mask &= table[column].astype(str) == value
    rows = table[mask].copy()

    truth = pd.to_numeric(rows[label]) == 1
    positive = pd.to_numeric(rows[prediction]) > threshold
    rows[OUTCOME] = [
        ("TP" if p else "FN") if t else ("FP" if p else "TN")
        for t, p in zip(truth, positive, strict=True)]
    rows[ERROR] = rows[OUTCOME].map(
        {"FP": "false positive", "FN": "false negative"}).fillna("")
    counts = {k: int((rows[OUTCOME] == k).sum())
              for k in ("TP", "FP", "TN", "FN")}
    return Selection(dict(where), threshold, rows.reset_index(drop=True),
                     counts)

