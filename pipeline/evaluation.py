"""The Evaluator's TFMA configuration: metrics, slices and thresholds.

`create_pipeline` passes `make_eval_config(policy)` to the Evaluator; the
fairness gate and the run summary read metric keys back with the helpers
here.
"""

import json
import os
from typing import Mapping, Optional, Sequence, Tuple

import tensorflow_model_analysis as tfma

from components.model import features
from pipeline import config
from pipeline.policy import Policy

FAIRNESS_MODULE = "fairness_indicators.fairness_indicators_metrics"
FAIRNESS_PREFIX = "fairness_indicators_metrics"
AUC = "auc"
BINARY_ACCURACY = "binary_accuracy"
EXAMPLE_COUNT = "example_count"

# AUC is computed over this many score buckets (TFMA's default is 10000).
# With bootstrap intervals every bucket is recomputed 20 times per slice; at
# 1000 the AUC moves by well under 0.001 on this table.
AUC_BUCKETS = 1000


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


def slice_name(
    values: Mapping[str, str],
    slice_features: Sequence[str] = config.SLICE_FEATURES,
) -> str:
    """'overall', or 'sex=male, class=Third' in slice-feature order."""
    if not values:
        return "overall"
    order = {name: i for i, name in enumerate(slice_features)}
    keys = sorted(values, key=lambda k: (order.get(k, len(order)), k))
    return ", ".join(f"{k}={values[k]}" for k in keys)


def model_names(evaluation_uri: str) -> Tuple[str, Optional[str]]:
    """(candidate, baseline) model names of an Evaluator output; the baseline
    is None when there was none. With a baseline TFMA stores metrics of both
    models side by side, keyed by these names."""
    import tensorflow as tf

    path = os.path.join(evaluation_uri, "eval_config.json")
    with tf.io.gfile.GFile(path) as f:
        specs = json.load(f).get("evalConfig", {}).get("modelSpecs", [])
    candidate = next(
        (s.get("name", "") for s in specs if not s.get("isBaseline")), "")
    baseline = next(
        (s.get("name", "") for s in specs if s.get("isBaseline")), None)
    return candidate, baseline


def slicing_specs() -> list:
    """Overall, then each sensitive feature, then their intersection."""
    specs = [tfma.SlicingSpec()]
    for keys in config.slice_combinations():
        specs.append(tfma.SlicingSpec(feature_keys=list(keys)))
    return specs


def gate_metric_name(metric: str, threshold: float) -> str:
    """Name of the single-threshold metric a group rule gates on, e.g.
    'fnr_at_0.5'. FairnessIndicators' own keys cannot carry thresholds:
    TFMA reports them as 'Metric not found'."""
    short = {"false_positive_rate": "fpr", "false_negative_rate": "fnr"}
    return f"{short[metric]}_at_{threshold_label(threshold, [threshold])}"


def count_metric_name(kind: str, threshold: float) -> str:
    """e.g. ('true_positives', 0.5) -> 'true_positives_at_0.5'."""
    return f"{kind}_at_{threshold_label(threshold, [threshold])}"


COUNT_CLASSES = {
    "true_positives": "TruePositives",
    "false_positives": "FalsePositives",
    "true_negatives": "TrueNegatives",
    "false_negatives": "FalseNegatives",
}


def slicing_spec_for(group: Sequence[Tuple[str, str]]) -> tfma.SlicingSpec:
    """The spec of one named group; () is the overall slice."""
    if not group:
        return tfma.SlicingSpec()
    return tfma.SlicingSpec(feature_values=dict(group))


def make_eval_config(
    policy: Policy,
    thresholds: Sequence[float] = config.THRESHOLDS,
) -> tfma.EvalConfig:
    """Metrics on every slice, and every policy bound TFMA can express.

    Overall floors and no-regression tolerances are per-slice thresholds on
    the overall slice (a plain `MetricConfig.threshold` would apply to every
    slice). A group rule's bounds are per-slice thresholds on its slices,
    and its maximum difference from the reference a cross-slice threshold.
    What TFMA cannot express (minimum support, ratios, gating on an
    interval's bound) is left to `components.fairness_gate`.
    """
    overall_only = [tfma.SlicingSpec()]
    metric_configs = [tfma.MetricConfig(class_name="ExampleCount")]

    for name, class_name, settings in (
            (AUC, "AUC", {"num_thresholds": AUC_BUCKETS}),
            (BINARY_ACCURACY, "BinaryAccuracy", {})):
        per_slice = []
        bounds = policy.overall.get(name)
        if bounds is not None:
            per_slice.append(tfma.PerSliceMetricThreshold(
                slicing_specs=overall_only,
                threshold=tfma.MetricThreshold(
                    value_threshold=_value_threshold(bounds.min, bounds.max))))
        if name in policy.regression:
            # Checked only once a blessed baseline exists.
            per_slice.append(tfma.PerSliceMetricThreshold(
                slicing_specs=overall_only,
                threshold=tfma.MetricThreshold(
                    change_threshold=tfma.GenericChangeThreshold(
                        direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                        absolute={"value": -policy.regression[name]}))))
        metric_configs.append(tfma.MetricConfig(
            class_name=class_name, config=json.dumps(settings),
            per_slice_thresholds=per_slice))

    metric_configs.append(tfma.MetricConfig(
        class_name="FairnessIndicators",
        module=FAIRNESS_MODULE,
        config=json.dumps({"thresholds": list(thresholds)})))

    # Counts at the gating threshold: the support of each group rule.
    for kind, class_name in COUNT_CLASSES.items():
        metric_configs.append(tfma.MetricConfig(
            class_name=class_name,
            config=json.dumps({
                "name": count_metric_name(kind, policy.threshold),
                "thresholds": [policy.threshold]})))

    cross_slicing_specs = []
    for metric in sorted({r.metric for r in policy.group_rules}):
        per_slice, cross_slice = [], []
        for rule in policy.group_rules:
            if rule.metric != metric:
                continue
            specs = [tfma.SlicingSpec(feature_keys=list(keys))
                     for keys in rule.slice_feature_sets]
            if rule.gate_on == "value" and (
                    rule.min is not None or rule.max is not None):
                per_slice.append(tfma.PerSliceMetricThreshold(
                    slicing_specs=specs,
                    threshold=tfma.MetricThreshold(
                        value_threshold=_value_threshold(rule.min, rule.max))))
            if rule.gate_on == "value" and rule.max_difference is not None:
                cross = tfma.CrossSlicingSpec(
                    baseline_spec=slicing_spec_for(rule.reference_slice),
                    slicing_specs=specs)
                cross_slicing_specs.append(cross)
                cross_slice.append(tfma.CrossSliceMetricThreshold(
                    cross_slicing_specs=[cross],
                    threshold=tfma.MetricThreshold(
                        value_threshold=_value_threshold(
                            -rule.max_difference, rule.max_difference))))
        metric_configs.append(tfma.MetricConfig(
            class_name="FPR" if metric == "false_positive_rate" else "FNR",
            config=json.dumps({
                "name": gate_metric_name(metric, policy.threshold),
                "thresholds": policy.threshold}),
            per_slice_thresholds=per_slice,
            cross_slice_thresholds=cross_slice))

    options = tfma.Options()
    if policy.confidence_intervals:
        options.compute_confidence_intervals.value = True
        options.confidence_intervals.method = (
            tfma.ConfidenceIntervalOptions.POISSON_BOOTSTRAP)
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=features.LABEL,
                prediction_key=features.SERVING_OUTPUT,
                preprocessing_function_names=[]),
        ],
        slicing_specs=slicing_specs(),
        cross_slicing_specs=cross_slicing_specs,
        metrics_specs=[tfma.MetricsSpec(metrics=metric_configs)],
        options=options,
    )


def _value_threshold(lower: Optional[float], upper: Optional[float]):
    bounds = {}
    if lower is not None:
        bounds["lower_bound"] = {"value": lower}
    if upper is not None:
        bounds["upper_bound"] = {"value": upper}
    return tfma.GenericValueThreshold(**bounds)
