"""A self-contained HTML fairness report: one file that opens offline.

Whoever holds a run's artifacts builds a `ReportData` (the slices with
`slices_from_eval_result` or `pipeline.drilldown.evaluate_table`, the data
balance with `data_balance_from_examples`, the tuning summary with
`tuning_from_tuner_outputs`) and calls `write_report`. The page shows the
verdict, a Fairness Indicators style bar chart per metric over every slice
and threshold with a table beneath, the data balance and the tuning. The
charts are plotly figures with plotly.js inlined once; the numbers the page
shows are also embedded as JSON (`<script id="report-data">`) for tests.
"""

import collections
import dataclasses
import html
import json
import logging
import math
import os
import pathlib
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import plotly.graph_objects as go

from components.model import features
from pipeline import config
from pipeline.evaluation import (
    EXAMPLE_COUNT,
    fairness_metric_key,
    model_names,
    slice_name,
    threshold_label,
)

logger = logging.getLogger(__name__)

# Sub-metrics of FairnessIndicators shown in the report, with what each one
# means for a passenger. FairnessIndicators also writes recall (equal to the
# true positive rate), negative_rate, false_discovery_rate and
# false_omission_rate; the report leaves those out.
FAIRNESS_METRICS: Dict[str, str] = {
    "false_positive_rate":
        "share of non-survivors the model predicted to survive",
    "false_negative_rate":
        "share of survivors the model predicted not to survive",
    "true_positive_rate": "share of survivors predicted to survive",
    "true_negative_rate": "share of non-survivors predicted not to survive",
    "precision": "share of predicted survivors who survived",
    "positive_rate": "share of passengers predicted to survive",
}

OUTCOMES = ("pass", "fail", "insufficient")
RULE_KEYS = ("rule", "slice", "metric", "value", "bound", "support",
             "outcome", "message")
OVERALL = "overall"
FAIRNESS_CHART_ID = "fairness-chart"
BALANCE_CHART_ID = "balance-chart"
MISSING = "(missing)"


@dataclasses.dataclass
class SliceRecord:
    """The fairness metrics of one slice of the evaluated examples.

    Attributes:
      name: 'overall', 'sex=male' or 'sex=male, class=Third'.
      features: the slice's feature values ({} for overall).
      example_count: examples in the slice.
      values: metric name -> threshold label ('0.5') -> value; None where
        the metric is undefined (e.g. an FPR on a slice without negatives).
    """

    name: str
    features: Dict[str, str]
    example_count: int
    values: Dict[str, Dict[str, Optional[float]]]

    def value(self, metric: str, label: str) -> Optional[float]:
        return self.values.get(metric, {}).get(label)


@dataclasses.dataclass
class Verdict:
    """Whether the model was blessed, and the outcome of each gate rule.

    Attributes:
      blessed: the gate's decision.
      rules: one dict per rule and slice with the keys in `RULE_KEYS`;
        'outcome' is one of `OUTCOMES`.
    """

    blessed: bool
    rules: List[Mapping[str, object]] = dataclasses.field(
        default_factory=list)

    def __post_init__(self):
        for i, rule in enumerate(self.rules):
            missing = [k for k in RULE_KEYS if k not in rule]
            if missing:
                raise ValueError(
                    f"verdict rule {i} lacks {', '.join(missing)}; each rule "
                    f"needs {', '.join(RULE_KEYS)}")
            if rule["outcome"] not in OUTCOMES:
                raise ValueError(
                    f"verdict rule {i} has outcome {rule['outcome']!r}; "
                    f"expected one of {', '.join(OUTCOMES)}")


@dataclasses.dataclass
class BalanceRow:
    """Survivors and non-survivors of one sex x class group in a split."""

    sex: str
    passenger_class: str
    survived: int
    not_survived: int

    @property
    def total(self) -> int:
        return self.survived + self.not_survived


@dataclasses.dataclass
class TuningSummary:
    """What the hyperparameter search tried and chose."""

    trials: int
    best_hyperparameters: Dict[str, object]
    best_validation_auc: Optional[float] = None


@dataclasses.dataclass
class ReportData:
    """Everything the report shows.

    Attributes:
      title: page title and heading.
      slices: per-slice metrics; an 'overall' slice is the reference for the
        differences in the tables.
      thresholds: the decision thresholds the metrics were computed at.
      verdict: the blessing and rule outcomes, or None to leave it out.
      data_balance: survived / not survived by sex x class (training split).
      tuning: the tuning summary, or None to leave it out.
    """

    title: str
    slices: List[SliceRecord]
    thresholds: Sequence[float] = config.THRESHOLDS
    verdict: Optional[Verdict] = None
    data_balance: List[BalanceRow] = dataclasses.field(default_factory=list)
    tuning: Optional[TuningSummary] = None


# Reading the inputs. TensorFlow and TFMA are imported inside the readers
# that need them: writing a report from ready numbers does not load them.


def slices_from_eval_result(
    evaluation_dir: Union[str, os.PathLike],
    thresholds: Sequence[float] = config.THRESHOLDS,
    slice_features: Sequence[str] = config.SLICE_FEATURES,
) -> List[SliceRecord]:
    """Reads the Evaluator's (or `tfma.analyze_raw_data`'s) output.

    Args:
      evaluation_dir: folder holding TFMA's metrics-*.tfrecord files.
      thresholds: thresholds FairnessIndicators was configured with; they
        decide the decimals of its metric keys.
      slice_features: the slice features, in the order slice names list
        them.

    Returns:
      One record per slice: overall, each feature's values, then crosses.

    Raises:
      FileNotFoundError: the folder holds no TFMA metrics.
      ValueError: a FairnessIndicators metric at a threshold is missing.
    """
    import tensorflow as tf
    import tensorflow_model_analysis as tfma

    evaluation_dir = os.fspath(evaluation_dir)
    if not tf.io.gfile.glob(os.path.join(evaluation_dir, "metrics*")):
        raise FileNotFoundError(
            f"no TFMA metrics (metrics-*.tfrecord) in {evaluation_dir}")
    candidate, _ = model_names(evaluation_dir)
    return slices_from_tfma_result(
        tfma.load_eval_result(evaluation_dir, model_name=candidate or None),
        thresholds, slice_features, source=evaluation_dir)


def slices_from_tfma_result(
    result, thresholds: Sequence[float], slice_features: Sequence[str],
    source: str = "the evaluation result",
) -> List[SliceRecord]:
    """Turns a `tfma.EvalResult` into sorted `SliceRecord`s.

    Args:
      result: a loaded `tfma.EvalResult`.
      thresholds: thresholds FairnessIndicators was configured with.
      slice_features: the slice features, in the order names list them.
      source: where the result came from, for error messages.
    """
    labels = [threshold_label(t, thresholds) for t in thresholds]
    records = []
    for slice_key, metrics in result.slicing_metrics:
        if not _is_single_slice(slice_key):
            continue  # a cross-slice comparison, not a slice
        numbers = {}
        for name, value in metrics.get("", {}).get("", {}).items():
            if not isinstance(value, dict):
                continue
            if "doubleValue" in value:
                numbers[name] = _finite(value["doubleValue"])
            elif "value" in value.get("boundedValue", {}):
                # With confidence intervals TFMA stores the point estimate
                # inside a bounded value.
                numbers[name] = _finite(value["boundedValue"]["value"])

        values: Dict[str, Dict[str, Optional[float]]] = {}
        for metric in FAIRNESS_METRICS:
            values[metric] = {}
            for threshold, label in zip(thresholds, labels, strict=True):
                key = fairness_metric_key(metric, threshold, thresholds)
                if key not in numbers:
                    raise ValueError(
                        f"{source} has no metric '{key}'; it needs "
                        f"FairnessIndicators at thresholds "
                        f"{list(thresholds)} and ExampleCount")
                values[metric][label] = numbers[key]

        slice_values = {str(k): _text(v) for k, v in slice_key}
        records.append(SliceRecord(
            name=slice_name(slice_values, slice_features),
            features=slice_values,
            example_count=int(numbers.get(EXAMPLE_COUNT) or 0),
            values=values))
    return sorted(records, key=lambda r: _slice_order(r, slice_features))


def _is_single_slice(slice_key) -> bool:
    return all(
        isinstance(part, tuple) and len(part) == 2
        and isinstance(part[0], str) for part in slice_key)


def text_table(slices: Sequence[SliceRecord],
               thresholds: Sequence[float] = config.THRESHOLDS) -> str:
    """Example count, FPR and FNR of each slice at each threshold, as a
    text table for the terminal."""
    from tabulate import tabulate

    labels = [threshold_label(t, thresholds) for t in thresholds]
    headers = ["", "examples"]
    for label in labels:
        headers += [f"FPR@{label}", f"FNR@{label}"]
    rows = []
    for record in slices:
        row = [record.name, str(record.example_count)]
        for label in labels:
            for metric in ("false_positive_rate", "false_negative_rate"):
                value = record.value(metric, label)
                row.append("n/a" if value is None else f"{value:.2f}")
        rows.append(row)
    return tabulate(rows, headers=headers, disable_numparse=True,
                    colalign=("left",) + ("right",) * (len(headers) - 1))


def _slice_order(record: SliceRecord, slice_features: Sequence[str]):
    """Overall, then single features in order, then crosses; values in
    vocabulary order where the vocabulary is known."""
    order = {name: i for i, name in enumerate(slice_features)}
    keys = sorted(record.features, key=lambda k: (order.get(k, 99), k))
    value_order = tuple(
        _value_rank(k, record.features[k]) for k in keys)
    return (len(keys), tuple(order.get(k, 99) for k in keys), value_order)


def _value_rank(feature: str, value: str) -> Tuple[int, str]:
    vocabulary = list(features.VOCABULARIES.get(feature, ()))
    if value in vocabulary:
        return vocabulary.index(value), ""
    return len(vocabulary), value


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _finite(value) -> Optional[float]:
    number = float(value)
    return number if math.isfinite(number) else None


def data_balance_from_examples(
    file_patterns: Union[str, Sequence[str]],
) -> List[BalanceRow]:
    """Counts survivors and non-survivors by sex x class in a split.

    Args:
      file_patterns: glob pattern(s) of GZIP TFRecord files of tf.Examples,
        e.g. '<examples uri>/Split-train/*.gz'.

    Returns:
      One row per sex x class group, every vocabulary pair included (zero
      counts too), in vocabulary order; a missing sex or class is
      '(missing)'. Examples without a label are left out and logged.

    Raises:
      FileNotFoundError: no file matches the patterns.
    """
    import tensorflow as tf

    patterns = [file_patterns] if isinstance(file_patterns, str) else list(
        file_patterns)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(
            f"no TFRecord files match {', '.join(patterns)}")

    counts: collections.Counter = collections.Counter()
    unlabelled = 0
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    for batch in dataset.batch(1024):
        columns = features.parse_examples(batch, with_label=True)
        sexes = columns[features.SEX].numpy()
        classes = columns[features.CLASS].numpy()
        for sex, cls, label in zip(sexes, classes,
                                   columns[features.LABEL].numpy(),
                                   strict=True):
            if label < 0:
                unlabelled += 1
                continue
            group = (sex.decode() or MISSING, cls.decode() or MISSING)
            counts[group + (bool(label),)] += 1
    if unlabelled:
        logger.warning("%s examples without '%s' left out of the data "
                       "balance", unlabelled, features.LABEL)

    groups = [(s, c) for s in features.VOCABULARIES[features.SEX]
              for c in features.VOCABULARIES[features.CLASS]]
    groups += sorted({k[:2] for k in counts} - set(groups))
    return [BalanceRow(s, c, counts[(s, c, True)], counts[(s, c, False)])
            for s, c in groups]


def tuning_from_tuner_outputs(
    best_hyperparameters_dir: Union[str, os.PathLike],
    tuner_results_dir: Union[str, os.PathLike],
) -> TuningSummary:
    """Reads the Tuner's best_hyperparameters.txt and tuner_results.json.

    Args:
      best_hyperparameters_dir: URI of the Tuner's best_hyperparameters.
      tuner_results_dir: URI of the Tuner's tuner_results.
    """
    hp_path = pathlib.Path(best_hyperparameters_dir, "best_hyperparameters.txt")
    results_path = pathlib.Path(tuner_results_dir, "tuner_results.json")
    values = json.loads(hp_path.read_text())["values"]
    results = json.loads(results_path.read_text())
    scores = [r["score"] for r in results if r.get("score") is not None]
    return TuningSummary(
        trials=len(results),
        best_hyperparameters={
            k: v for k, v in values.items() if not k.startswith("tuner/")},
        best_validation_auc=max(scores) if scores else None)


# Writing the page.


def write_report(path: Union[str, os.PathLike], data: ReportData
                 ) -> pathlib.Path:
    """Writes the report as one HTML file that needs no server or network.

    Args:
      path: the .html file to write; its folder is created.
      data: what to show.

    Returns:
      The path written.

    Raises:
      ValueError: `data` has no slices.
    """
    if not data.slices:
        raise ValueError("the report needs at least one slice of metrics")
    labels = [threshold_label(t, data.thresholds) for t in data.thresholds]

    # plotly.js goes inline with the first figure only.
    figures = [_fairness_figure(data, labels)]
    if data.data_balance:
        figures.append(_balance_figure(data.data_balance))
    divs = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0),
                    div_id=div_id, default_height="480px",
                    config={"displaylogo": False, "responsive": True})
        for i, (div_id, fig) in enumerate(figures)
    ]

    sections = []
    if data.verdict is not None:
        sections.append(_verdict_section(data.verdict))
    sections.append(_fairness_section(data, labels, divs[0]))
    if data.data_balance:
        sections.append(_balance_section(data.data_balance, divs[1]))
    if data.tuning is not None:
        sections.append(_tuning_section(data.tuning))

    payload = _payload(data, labels, [div_id for div_id, _ in figures])
    page = _PAGE.format(
        title=html.escape(data.title),
        style=_STYLE,
        sections="\n".join(sections),
        data=json.dumps(payload, indent=1, allow_nan=False).replace(
            "</", "<\\/"),
        script=_CONTROLS_JS)

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    logger.info("Wrote the fairness report to %s", path)
    return path


def _payload(data: ReportData, labels: List[str], charts: List[str]) -> dict:
    """The numbers the page shows, as plain JSON."""
    return {
        "title": data.title,
        "thresholds": [float(t) for t in data.thresholds],
        "threshold_labels": labels,
        "metrics": list(FAIRNESS_METRICS),
        "slices": [dataclasses.asdict(s) for s in data.slices],
        "verdict": None if data.verdict is None else {
            "blessed": data.verdict.blessed,
            "rules": [{k: _plain(rule[k]) for k in RULE_KEYS}
                      for rule in data.verdict.rules]},
        "data_balance": [
            {"sex": r.sex, "class": r.passenger_class,
             "survived": r.survived, "not_survived": r.not_survived}
            for r in data.data_balance],
        "tuning": None if data.tuning is None else {
            "trials": data.tuning.trials,
            "best_hyperparameters": {
                k: _plain(v)
                for k, v in data.tuning.best_hyperparameters.items()},
            "best_validation_auc": _plain(data.tuning.best_validation_auc)},
        "charts": charts,
    }


def _plain(value):
    """A JSON-safe copy: NaN and infinities become None."""
    if isinstance(value, float):
        return _finite(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def _overall(data: ReportData) -> Optional[SliceRecord]:
    return next((s for s in data.slices if not s.features), None)


def _fairness_figure(data: ReportData, labels: List[str]
                     ) -> Tuple[str, go.Figure]:
    """One bar trace per metric and threshold; the page's controls switch
    which metric's traces are visible."""
    names = [s.name for s in data.slices]
    counts = [s.example_count for s in data.slices]
    first = next(iter(FAIRNESS_METRICS))
    fig = go.Figure()
    for metric in FAIRNESS_METRICS:
        for label in labels:
            fig.add_trace(go.Bar(
                x=names,
                y=[s.value(metric, label) for s in data.slices],
                name=f"threshold {label}",
                legendgroup=label,
                meta={"metric": metric, "threshold": label},
                customdata=counts,
                visible=metric == first,
                hovertemplate=(
                    "%{x}<br>" + _metric_title(metric) + " @ " + label
                    + ": %{y:.3f}<br>%{customdata} examples<extra></extra>"),
            ))
    fig.update_layout(
        barmode="group",
        margin={"l": 60, "r": 20, "t": 30, "b": 60},
        legend={"orientation": "h", "y": 1.08, "x": 0},
        yaxis={"title": {"text": _metric_title(first)}, "range": [0, 1.05]},
        # One feature per line keeps the crossed slices' labels level.
        xaxis={"tickangle": 0, "tickvals": names,
               "ticktext": [n.replace(", ", "<br>") for n in names]},
        template="plotly_white",
    )
    return FAIRNESS_CHART_ID, fig


def _balance_figure(rows: List[BalanceRow]) -> Tuple[str, go.Figure]:
    groups = [f"{r.sex}, {r.passenger_class}" for r in rows]
    fig = go.Figure([
        go.Bar(x=groups, y=[r.survived for r in rows], name="survived",
               marker_color="#2a9d8f"),
        go.Bar(x=groups, y=[r.not_survived for r in rows],
               name="did not survive", marker_color="#b0b7c3"),
    ])
    fig.update_layout(
        barmode="stack", template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
        yaxis={"title": {"text": "passengers"}},
        legend={"orientation": "h", "y": 1.1, "x": 0,
                "traceorder": "normal"})
    return BALANCE_CHART_ID, fig


def _metric_title(metric: str) -> str:
    return metric.replace("_", " ").capitalize()


def _number(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _verdict_section(verdict: Verdict) -> str:
    word, css = ("BLESSED", "pass") if verdict.blessed else (
        "NOT BLESSED", "fail")
    rows = []
    for rule in verdict.rules:
        cells = []
        for key in RULE_KEYS:
            value = rule[key]
            if key == "value" and value is None:
                text = "n/a"
            elif isinstance(value, float):
                text = _number(value)
            else:
                text = "" if value is None else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f'<tr class="{html.escape(str(rule["outcome"]))}">'
                    f'{"".join(cells)}</tr>')
    header = "".join(f"<th>{k}</th>" for k in RULE_KEYS)
    table = (f'<table class="rules"><thead><tr>{header}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>'
             if rows else "<p>No fairness rules were checked.</p>")
    return (f'<section id="verdict"><h2>Verdict</h2>'
            f'<p class="badge {css}">{word}</p>{table}</section>')


def _fairness_section(data: ReportData, labels: List[str], chart: str
                      ) -> str:
    options = "".join(
        f'<option value="{m}">{_metric_title(m)}</option>'
        for m in FAIRNESS_METRICS)
    boxes = "".join(
        f'<label><input type="checkbox" name="fi-threshold" value="{lab}" '
        f'checked> {lab}</label>' for lab in labels)
    tables = "".join(
        _metric_table(data, metric, labels, hidden=i > 0)
        for i, metric in enumerate(FAIRNESS_METRICS))
    return (
        '<section id="fairness"><h2>Fairness metrics by slice</h2>'
        '<p>Each bar is a slice of the evaluated passengers; one bar per '
        'decision threshold (a prediction above the threshold counts as '
        '"survived"). Differences are against the overall slice.</p>'
        '<div class="controls"><label>Metric <select id="fi-metric">'
        f'{options}</select></label><span>Thresholds {boxes}</span></div>'
        f'<p id="fi-description" class="note">'
        f'{html.escape(next(iter(FAIRNESS_METRICS.values())))}</p>'
        f'{chart}{tables}</section>')


def _metric_table(data: ReportData, metric: str, labels: List[str],
                  hidden: bool) -> str:
    overall = _overall(data)
    head = "<th>slice</th><th>examples</th>" + "".join(
        f'<th data-threshold="{lab}">@{lab}</th>'
        f'<th data-threshold="{lab}">&Delta; overall</th>' for lab in labels)
    rows = []
    for record in data.slices:
        cells = [f"<td>{html.escape(record.name)}</td>",
                 f"<td>{record.example_count}</td>"]
        for label in labels:
            value = record.value(metric, label)
            base = overall.value(metric, label) if overall else None
            delta = (value - base if value is not None and base is not None
                     and record is not overall else None)
            cells.append(f'<td data-threshold="{label}">{_number(value)}</td>')
            cells.append(f'<td data-threshold="{label}">'
                         f'{"" if record is overall else _number(delta, True)}'
                         "</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="fi-table" data-metric="{metric}"'
            f'{" hidden" if hidden else ""}><caption>'
            f'{_metric_title(metric)}</caption><thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def _balance_section(rows: List[BalanceRow], chart: str) -> str:
    body = []
    for r in rows + [BalanceRow("all", "all", sum(x.survived for x in rows),
                                sum(x.not_survived for x in rows))]:
        rate = _number(r.survived / r.total) if r.total else "n/a"
        body.append(
            f"<tr><td>{html.escape(r.sex)}</td>"
            f"<td>{html.escape(r.passenger_class)}</td><td>{r.survived}</td>"
            f"<td>{r.not_survived}</td><td>{r.total}</td><td>{rate}</td></tr>")
    return (
        '<section id="balance"><h2>Data balance (training split)</h2>'
        '<table><thead><tr><th>sex</th><th>class</th><th>survived</th>'
        '<th>did not survive</th><th>total</th><th>survival rate</th></tr>'
        f'</thead><tbody>{"".join(body)}</tbody></table>{chart}</section>')


def _tuning_section(tuning: TuningSummary) -> str:
    auc = _number(tuning.best_validation_auc)
    params = "".join(
        f"<tr><td>{html.escape(str(k))}</td>"
        f"<td>{html.escape(_format_value(v))}</td></tr>"
        for k, v in tuning.best_hyperparameters.items())
    return (
        '<section id="tuning"><h2>Tuning</h2>'
        f'<p>{tuning.trials} trials; best validation AUC {auc}.</p>'
        '<table><thead><tr><th>hyperparameter</th><th>best value</th></tr>'
        f'</thead><tbody>{params}</tbody></table></section>')


def _format_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto;
  max-width: 1150px; padding: 0 1rem; color: #1d2733; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
  border-bottom: 1px solid #d5dae1; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #d5dae1; padding: .25rem .6rem; }
td { text-align: right; } td:first-child, .rules td { text-align: left; }
th { background: #f1f3f6; } caption { text-align: left; font-weight: 600; }
tr.pass td { background: #e6f4ea; } tr.fail td { background: #fce8e6; }
tr.insufficient td { background: #fef7e0; }
.badge { display: inline-block; padding: .3rem .8rem; font-weight: 700;
  border-radius: 4px; } .badge.pass { background: #c8e6c9; }
.badge.fail { background: #f8c9c4; }
.controls { display: flex; gap: 2rem; align-items: center; }
.controls label { margin-right: .6rem; } .note { color: #555; }
[hidden] { display: none !important; }
"""

# Switches the fairness chart between metrics and thresholds; every trace
# carries meta.metric and meta.threshold. No drawing happens here: plotly
# draws, this only sets which traces, tables and columns are shown.
_CONTROLS_JS = """
(function () {
  var chart = document.getElementById("%s");
  var select = document.getElementById("fi-metric");
  var boxes = Array.prototype.slice.call(
    document.querySelectorAll('input[name="fi-threshold"]'));
  var descriptions = %s;
  function update() {
    var metric = select.value;
    var shown = boxes.filter(function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    var visible = chart.data.map(function (t) {
      return t.meta.metric === metric && shown.indexOf(t.meta.threshold) >= 0;
    });
    var title = select.options[select.selectedIndex].text;
    Plotly.update(chart, {visible: visible}, {"yaxis.title.text": title});
    document.getElementById("fi-description").textContent =
      descriptions[metric];
    document.querySelectorAll(".fi-table").forEach(function (t) {
      t.hidden = t.dataset.metric !== metric;
    });
    document.querySelectorAll("[data-threshold]").forEach(function (c) {
      c.hidden = shown.indexOf(c.dataset.threshold) < 0;
    });
  }
  select.addEventListener("change", update);
  boxes.forEach(function (b) { b.addEventListener("change", update); });
})();
""" % (FAIRNESS_CHART_ID, json.dumps(FAIRNESS_METRICS))

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title><style>{style}</style></head>
<body><h1>{title}</h1>
{sections}
<script type="application/json" id="report-data">{data}</script>
<script>{script}</script>
</body></html>
"""
