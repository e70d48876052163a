"""FairnessGate: the custom component whose blessing the Pusher obeys.

The Evaluator checks every policy bound TFMA can express (overall floors,
no-regression change thresholds, per-group bounds as per-slice thresholds,
differences from a reference group as cross-slice thresholds). This gate
reads its evaluation and validation result and adds what TFMA cannot say:
whether a group has enough examples to judge (minimum support, reported as
insufficient evidence), ratios between groups, and gating on the bootstrap
interval's bound. It writes one decision record (`decision.json`) with every
rule's outcome and one ModelBlessing.
"""

import dataclasses
import json
import logging
import math
import os
from typing import Dict, List, Optional, Tuple

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from pipeline import evaluation as ev
from pipeline.policy import (
    GROUP_METRICS,
    OVERALL,
    SHORT_NAMES,
    GroupRule,
    Policy,
)

logger = logging.getLogger(__name__)

DECISION_FILE = "decision.json"
SliceKey = Tuple[Tuple[str, str], ...]


@dataclasses.dataclass
class Value:
    """A metric's point estimate and, when computed, its interval."""

    value: float
    lower: Optional[float] = None
    upper: Optional[float] = None


# slice -> metric name -> value; diff metrics (against the baseline) are
# stored under "<name> (change)".
Metrics = Dict[SliceKey, Dict[str, Value]]


@dataclasses.dataclass
class Outcome:
    """One rule applied to one slice."""

    rule: str
    metric: str
    slice: str
    value: Optional[float]
    bound: str
    support: Optional[int]
    min_support: int
    outcome: str  # pass, fail or insufficient
    blocks: bool
    message: str
    interval: Optional[Tuple[float, float]] = None


@dataclasses.dataclass
class Decision:
    blessed: bool
    outcomes: List[Outcome]
    has_baseline: bool
    threshold: float

    def blocking(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.blocks]

    def to_json(self) -> dict:
        return {
            "blessed": self.blessed,
            "threshold": self.threshold,
            "has_baseline": self.has_baseline,
            "rules": [dataclasses.asdict(o) for o in self.outcomes],
        }


def slice_name(key: SliceKey) -> str:
    return ev.slice_name(dict(key))


def _slice_key(proto) -> SliceKey:
    pairs = []
    for p in proto.single_slice_keys:
        kind = p.WhichOneof("kind")
        value = getattr(p, kind) if kind else ""
        if isinstance(value, bytes):
            value = value.decode()
        pairs.append((p.column, str(value)))
    return tuple(sorted(pairs))


def read_metrics(evaluation_uri: str) -> Metrics:
    """Every metric of every slice in a TFMA output, with intervals, for the
    candidate model (not the baseline it was compared with)."""
    _, baseline = ev.model_names(evaluation_uri)
    metrics: Metrics = {}
    for per_slice in tfma.load_metrics(evaluation_uri):
        if per_slice.HasField("cross_slice_key"):
            continue
        values = metrics.setdefault(_slice_key(per_slice.slice_key), {})
        for item in per_slice.metric_keys_and_values:
            if baseline is not None and item.key.model_name == baseline:
                continue
            name = item.key.name + (" (change)" if item.key.is_diff else "")
            v = item.value
            if v.HasField("bounded_value"):
                point = v.bounded_value.value.value
            elif v.HasField("double_value"):
                point = v.double_value.value
            else:
                continue
            value = Value(point)
            if item.HasField("confidence_interval"):
                interval = item.confidence_interval
                value.lower = interval.lower_bound.double_value.value
                value.upper = interval.upper_bound.double_value.value
            values[name] = value
    return metrics


def _failures(validation) -> List[dict]:
    """TFMA's failed thresholds as plain dicts."""
    found = []
    for per_slice in validation.metric_validations_per_slice:
        cross = per_slice.HasField("cross_slice_key")
        if cross:
            where = (_slice_key(per_slice.cross_slice_key.baseline_slice_key),
                     _slice_key(
                         per_slice.cross_slice_key.comparison_slice_key))
        else:
            where = _slice_key(per_slice.slice_key)
        for failure in per_slice.failures:
            found.append({
                "cross": cross, "where": where,
                "name": failure.metric_key.name,
                "is_diff": failure.metric_key.is_diff,
                "message": failure.message,
                "matched": False,
            })
    return found


def _tfma_failed(failures, name, where, cross=False, is_diff=False) -> bool:
    hit = False
    for f in failures:
        if (f["cross"] == cross and f["where"] == where
                and f["name"] == name and f["is_diff"] == is_diff):
            f["matched"] = True
            hit = True
    return hit


def _groups(metrics: Metrics, keys: Tuple[str, ...]) -> List[SliceKey]:
    wanted = set(keys)
    return sorted(k for k in metrics if {n for n, _ in k} == wanted)


def _fmt(x: Optional[float]) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}"


def decide(
    policy: Policy, metrics: Metrics, validation, has_baseline: bool,
) -> Decision:
    """Applies the policy to an evaluation; the model is blessed when no
    outcome blocks."""
    failures = _failures(validation)
    outcomes: List[Outcome] = []
    overall = metrics.get((), {})

    for name, bounds in policy.overall.items():
        value = overall.get(name)
        failed = _tfma_failed(failures, name, ())
        limit = " and ".join(
            p for p in (f">= {bounds.min}" if bounds.min is not None else "",
                        f"<= {bounds.max}" if bounds.max is not None else "")
            if p)
        point = value.value if value else None
        outcomes.append(Outcome(
            rule=f"overall {name}", metric=name, slice=OVERALL, value=point,
            bound=limit, support=None, min_support=0,
            outcome="fail" if failed or value is None else "pass",
            blocks=failed or value is None,
            message=f"{name} on the eval split is {_fmt(point)} "
                    f"(must be {limit})"))

    for name, tolerance in policy.regression.items():
        if not has_baseline:
            continue
        change = overall.get(f"{name} (change)")
        failed = _tfma_failed(failures, name, (), is_diff=True)
        delta = change.value if change else None
        outcomes.append(Outcome(
            rule=f"no {name} regression", metric=f"{name} change",
            slice=OVERALL, value=delta, bound=f">= -{tolerance}",
            support=None, min_support=0,
            outcome="fail" if failed else "pass", blocks=failed,
            message=f"{name} changed by {_fmt(delta)} against the last "
                    f"blessed model (may fall by at most {tolerance})"))

    for rule in policy.group_rules:
        outcomes.extend(
            _apply_group_rule(rule, policy.threshold, metrics, failures))

    # A TFMA failure no rule explains (e.g. "Metric not found") blocks: a
    # threshold that never matches would otherwise pass silently here.
    for f in failures:
        if not f["matched"]:
            where = (f"{slice_name(f['where'][1])} vs "
                     f"{slice_name(f['where'][0])}" if f["cross"]
                     else slice_name(f["where"]))
            outcomes.append(Outcome(
                rule="TFMA threshold", metric=f["name"], slice=where,
                value=None, bound="", support=None, min_support=0,
                outcome="fail", blocks=True,
                message=f"TFMA failed {f['name']} on {where}: "
                        f"{f['message'] or 'threshold not met'}"))
    if not validation.validation_ok and not any(o.blocks for o in outcomes):
        missing = ", ".join(
            str(s) for s in validation.missing_slices) or "unknown reason"
        outcomes.append(Outcome(
            rule="TFMA validation", metric="", slice="", value=None,
            bound="", support=None, min_support=0, outcome="fail",
            blocks=True, message=f"TFMA validation failed: {missing}"))

    blessed = not any(o.blocks for o in outcomes)
    return Decision(blessed, outcomes, has_baseline, policy.threshold)


def _support(values: Dict[str, Value], metric: str, threshold: float):
    kinds = (("false_positives", "true_negatives")
             if GROUP_METRICS[metric] == "negatives"
             else ("true_positives", "false_negatives"))
    counts = [values.get(ev.count_metric_name(k, threshold)) for k in kinds]
    if any(c is None for c in counts):
        return None
    return int(round(sum(c.value for c in counts)))


@dataclasses.dataclass
class _GroupFacts:
    """What is known about one group under one rule."""

    rule: GroupRule
    label: str  # e.g. 'FNR@0.5'
    kind: str  # 'positives' or 'negatives'
    where: str
    point: Optional[float]
    interval: Optional[Tuple[float, float]]
    support: Optional[int]

    @property
    def shown(self) -> str:
        text = f"{self.label} for {self.where} is {_fmt(self.point)}"
        if self.interval:
            text += (f" (interval {_fmt(self.interval[0])} to "
                     f"{_fmt(self.interval[1])})")
        return text

    @property
    def examples(self) -> str:
        """e.g. '25 positives', '1 negative'."""
        n = self.support or 0
        return f"{n} {self.kind if n != 1 else self.kind[:-1]}"

    @property
    def judged(self) -> Optional[float]:
        """The value a bound is checked on: the point, or the interval's
        upper end when the rule gates on it."""
        if self.rule.gate_on == "upper_bound" and self.interval:
            return self.interval[1]
        return self.point

    def outcome(self, bound: str, failed: bool, finding: str,
                limit: str) -> Outcome:
        """An outcome; too little support (or no value) overrides `failed`
        with 'insufficient', which blocks only if the policy says so."""
        rule = self.rule
        if self.point is None or math.isnan(self.point):
            state, blocks = "insufficient", rule.on_insufficient == "block"
            text = (f"{self.label} for {self.where} is undefined: "
                    f"{self.examples}")
        elif self.support is None or self.support < rule.min_support:
            state, blocks = "insufficient", rule.on_insufficient == "block"
            text = (f"{self.shown} from only {self.examples}; "
                    f"{rule.min_support} needed to judge ({limit})")
        else:
            state, blocks = ("fail" if failed else "pass"), failed
            text = f"{finding} ({limit}, {self.examples})"
        return Outcome(
            rule=rule.label, metric=self.label, slice=self.where,
            value=self.point, bound=bound, support=self.support,
            min_support=rule.min_support, outcome=state, blocks=blocks,
            message=text, interval=self.interval)


def _apply_group_rule(
    rule: GroupRule, threshold: float, metrics: Metrics, failures,
) -> List[Outcome]:
    name = ev.gate_metric_name(rule.metric, threshold)
    label = f"{SHORT_NAMES[rule.metric]}@{threshold:g}"
    reference_key = tuple(sorted(rule.reference_slice))
    reference = metrics.get(reference_key, {}).get(name)
    ref_point = reference.value if reference else None
    on_interval = " on the interval's upper end" if (
        rule.gate_on == "upper_bound") else ""
    outcomes = []

    for keys in rule.slice_feature_sets:
        for group in _groups(metrics, keys):
            value = metrics[group].get(name)
            facts = _GroupFacts(
                rule=rule, label=label, kind=GROUP_METRICS[rule.metric],
                where=slice_name(group),
                point=value.value if value else None,
                interval=_interval(value),
                support=_support(metrics[group], rule.metric, threshold))
            judged = facts.judged

            if rule.max is not None or rule.min is not None:
                own_failed = judged is not None and not math.isnan(
                    judged) and (
                    (rule.max is not None and judged > rule.max)
                    or (rule.min is not None and judged < rule.min))
                limit = rule.max if rule.max is not None else rule.min
                outcomes.append(facts.outcome(
                    f"<= {rule.max}" if rule.max is not None
                    else f">= {rule.min}",
                    _tfma_failed(failures, name, group) or own_failed,
                    facts.shown, f"limit {limit:.2f}{on_interval}"))

            if rule.max_difference is not None and ref_point is not None:
                gap = None
                if judged is not None:
                    ends = facts.interval if on_interval else (judged,)
                    gap = max(abs(end - ref_point) for end in ends)
                cross_failed = _tfma_failed(
                    failures, name, (reference_key, group), cross=True)
                outcomes.append(facts.outcome(
                    f"|difference from {rule.reference}| <= "
                    f"{rule.max_difference}",
                    cross_failed or (
                        gap is not None and gap > rule.max_difference),
                    f"{facts.shown} against {_fmt(ref_point)} for "
                    f"{rule.reference}: a gap of {_fmt(gap)}",
                    f"limit {rule.max_difference:.2f}{on_interval}"))

            if rule.max_ratio is not None and ref_point is not None:
                ratio = _ratio(judged, ref_point)
                outcomes.append(facts.outcome(
                    f"ratio to {rule.reference} <= {rule.max_ratio}",
                    ratio is not None and ratio > rule.max_ratio,
                    f"{facts.shown} against {_fmt(ref_point)} for "
                    f"{rule.reference}: a ratio of {_fmt(ratio)}",
                    f"limit {rule.max_ratio:.2f}{on_interval}"))
    return outcomes


def _interval(value: Optional[Value]) -> Optional[Tuple[float, float]]:
    """The value's bootstrap interval, when TFMA computed a finite one."""
    if value is None or value.lower is None or value.upper is None:
        return None
    if not (math.isfinite(value.lower) and math.isfinite(value.upper)):
        return None
    return value.lower, value.upper


def _ratio(a: Optional[float], b: float) -> Optional[float]:
    """Larger over smaller; infinite when only one of them is zero."""
    if a is None or math.isnan(a):
        return None
    high, low = max(a, b), min(a, b)
    if high == 0:
        return 1.0
    return math.inf if low == 0 else high / low


def has_baseline(evaluation_uri: str) -> bool:
    """Whether the Evaluator compared against a baseline model."""
    return ev.model_names(evaluation_uri)[1] is not None


@component
def FairnessGate(
    model: InputArtifact[standard_artifacts.Model],
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
    policy: Parameter[str],
) -> None:
    """Blesses the model when no rule of the policy blocks it."""
    rules = Policy.model_validate_json(policy)
    decision = decide(
        rules, read_metrics(evaluation.uri),
        tfma.load_validation_result(evaluation.uri),
        has_baseline(evaluation.uri))

    record = decision.to_json()
    record["model"] = model.uri
    record["evaluation"] = evaluation.uri
    record["policy"] = json.loads(policy)
    with tf.io.gfile.GFile(
            os.path.join(blessing.uri, DECISION_FILE), "w") as f:
        f.write(json.dumps(_finite(record), indent=2, allow_nan=False))
    marker = "BLESSED" if decision.blessed else "NOT_BLESSED"
    with tf.io.gfile.GFile(os.path.join(blessing.uri, marker), "w") as f:
        f.write("")

    # The properties the Pusher and LatestBlessedModelStrategy read.
    blessing.set_int_custom_property("blessed", int(decision.blessed))
    blessing.set_string_custom_property("current_model", model.uri)
    blessing.set_int_custom_property("current_model_id", model.id)
    logger.info("fairness gate: %s; %d rule outcome(s) block",
                marker, len(decision.blocking()))


def _finite(value):
    """The record with NaN and infinities as null, so it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
