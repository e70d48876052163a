"""The Evaluator's TFMA configuration: metrics, slices and the blessing.

`create_pipeline` passes `make_eval_config(...)` to the Evaluator; the run
summary reads the metric keys back with `fairness_metric_key`.
"""

import json
from typing import Sequence

import tensorflow_model_analysis as tfma

from components.model import features
from pipeline import config

FAIRNESS_MODULE = "fairness_indicators.fairness_indicators_metrics"
FAIRNESS_PREFIX = "fairness_indicators_metrics"
AUC = "auc"
BINARY_ACCURACY = "binary_accuracy"
EXAMPLE_COUNT = "example_count"


def threshold_label(threshold: float, thresholds: Sequence[float]) -> str:
    """Formats a threshold as FairnessIndicators does in its metric keys:
    with as many decimals as the most precise threshold in the list."""
    decimals = max(_decimals(t) for t in thresholds)
    return f"{threshold:.{decimals}f}"


def _decimals(value: float) -> int:
    text = repr(float(value)).rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def fairness_metric_key(
    metric: str, threshold: float,
    thresholds: Sequence[float] = config.THRESHOLDS,
) -> str:
    """e.g. ('false_positive_rate', 0.5) ->
    'fairness_indicators_metrics/false_positive_rate@0.5'."""
    label = threshold_label(threshold, thresholds)
    return f"{FAIRNESS_PREFIX}/{metric}@{label}"


def slicing_specs() -> list:
    """Overall, then each sensitive feature, then their intersection."""
    specs = [tfma.SlicingSpec()]
    for keys in config.slice_combinations():
        specs.append(tfma.SlicingSpec(feature_keys=list(keys)))
    return specs


def make_eval_config(
    auc_floor: float = config.AUC_FLOOR,
    max_auc_drop: float = config.MAX_AUC_DROP,
    thresholds: Sequence[float] = config.THRESHOLDS,
) -> tfma.EvalConfig:
    """Metrics on every slice; the blessing looks at overall AUC only.

    The AUC thresholds are per-slice thresholds on the overall slice: a plain
    `MetricConfig.threshold` would apply to every slice, and small sex x
    class groups would block a model that is fine overall.
    """
    overall_auc = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(
            lower_bound={"value": auc_floor}),
        # Checked only once a blessed baseline exists.
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -max_auc_drop}),
    )
    metrics = [
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(
            class_name="AUC",
            per_slice_thresholds=[
                tfma.PerSliceMetricThreshold(
                    slicing_specs=[tfma.SlicingSpec()],
                    threshold=overall_auc),
            ]),
        tfma.MetricConfig(class_name="BinaryAccuracy"),
        tfma.MetricConfig(
            class_name="FairnessIndicators",
            module=FAIRNESS_MODULE,
            config=json.dumps({"thresholds": list(thresholds)})),
    ]
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=features.LABEL,
                prediction_key=features.SERVING_OUTPUT,
                preprocessing_function_names=[]),
        ],
        slicing_specs=slicing_specs(),
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )
