"""The fairness gate policy: a human-edited TOML file, checked before a run.

runner.py loads the file named by `--policy` (default
`pipeline/policies/default.toml`) with `load_policy`; a policy that names an
unknown metric, slice feature or value, a threshold that is not evaluated, or
bounds that make no sense is refused with a `PolicyError` that names the key.
`pipeline.evaluation.make_eval_config` turns the policy into TFMA thresholds
and `components.fairness_gate` applies the rest.
"""

import pathlib
from typing import Dict, List, Literal, Optional, Tuple

import pydantic
import tomli

from components.model import features
from pipeline import config

DEFAULT_POLICY = pathlib.Path(__file__).parent / "policies" / "default.toml"

# Group metrics a rule may gate on, and which examples support each: a false
# positive rate is estimated from the negatives, a false negative rate from
# the positives.
GROUP_METRICS = {
    "false_positive_rate": "negatives",
    "false_negative_rate": "positives",
}
SHORT_NAMES = {"false_positive_rate": "FPR", "false_negative_rate": "FNR"}
ALIASES = {"fpr": "false_positive_rate", "fnr": "false_negative_rate"}
OVERALL_METRICS = ("auc", "binary_accuracy")
OVERALL = "overall"


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the key."""


class _Strict(pydantic.BaseModel):
    # strict: a number written as a string, or "yes" for true, is refused
    # rather than converted.
    model_config = pydantic.ConfigDict(
        extra="forbid", frozen=True, strict=True)


def _check_unit(value: Optional[float], what: str) -> Optional[float]:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} = {value} is outside [0, 1]")
    return value


class Bounds(_Strict):
    """Lower and upper bounds on an overall metric."""

    min: Optional[float] = None
    max: Optional[float] = None

    @pydantic.model_validator(mode="after")
    def _valid(self):
        _check_unit(self.min, "min")
        _check_unit(self.max, "max")
        if self.min is not None and self.max is not None and (
                self.min > self.max):
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        return self


class GroupRule(_Strict):
    """A bound on FPR or FNR for every group of some slice features."""

    name: Optional[str] = None
    metric: str
    groups: List[str]
    max: Optional[float] = None
    min: Optional[float] = None
    max_difference: Optional[float] = None
    max_ratio: Optional[float] = None
    reference: str = OVERALL
    min_support: int = 0
    on_insufficient: Literal["block", "pass"] = "block"
    gate_on: Literal["value", "upper_bound"] = "value"

    @pydantic.field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        metric = ALIASES.get(metric.lower(), metric)
        if metric not in GROUP_METRICS:
            known = ", ".join(list(GROUP_METRICS) + list(ALIASES))
            raise ValueError(f"unknown metric '{metric}'; known: {known}")
        return metric

    @pydantic.field_validator("groups")
    @classmethod
    def _known_features(cls, groups: List[str]) -> List[str]:
        if not groups:
            raise ValueError("list at least one slice, e.g. 'sex,class'")
        for group in groups:
            for name in _split(group):
                _check_feature(name)
        return groups

    @pydantic.field_validator("reference")
    @classmethod
    def _known_reference(cls, reference: str) -> str:
        if reference != OVERALL:
            parse_group(reference)
        return reference

    @pydantic.field_validator("min_support")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"min_support = {value} must be 0 or more")
        return value

    @pydantic.model_validator(mode="after")
    def _valid_bounds(self):
        _check_unit(self.max, "max")
        _check_unit(self.min, "min")
        _check_unit(self.max_difference, "max_difference")
        if self.min is not None and self.max is not None and (
                self.min > self.max):
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.max_ratio is not None and self.max_ratio < 1.0:
            raise ValueError(
                f"max_ratio = {self.max_ratio} must be 1 or more (the ratio "
                "is the larger rate over the smaller)")
        if all(v is None for v in (self.max, self.min, self.max_difference,
                                   self.max_ratio)):
            raise ValueError(
                "give at least one of max, min, max_difference, max_ratio")
        return self

    @property
    def slice_feature_sets(self) -> List[Tuple[str, ...]]:
        return [tuple(_split(g)) for g in self.groups]

    @property
    def reference_slice(self) -> Tuple[Tuple[str, str], ...]:
        return () if self.reference == OVERALL else parse_group(
            self.reference)

    @property
    def label(self) -> str:
        return self.name or f"{SHORT_NAMES[self.metric]} by " + "; ".join(
            g.replace(",", " x ") for g in self.groups)


class Policy(_Strict):
    """The whole gate: a threshold, overall floors, no-regression
    tolerances against the last blessed model, and group rules."""

    threshold: float = 0.5
    confidence_intervals: bool = True
    overall: Dict[str, Bounds] = {}
    regression: Dict[str, float] = {}
    group_rules: List[GroupRule] = []

    @pydantic.field_validator("threshold")
    @classmethod
    def _evaluated_threshold(cls, threshold: float) -> float:
        if not any(abs(threshold - t) < 1e-9 for t in config.THRESHOLDS):
            known = ", ".join(str(t) for t in config.THRESHOLDS)
            raise ValueError(
                f"threshold {threshold} is not evaluated; choose one of "
                f"{known}")
        return threshold

    @pydantic.field_validator("overall", "regression")
    @classmethod
    def _known_overall_metric(cls, table: dict) -> dict:
        for name in table:
            if name not in OVERALL_METRICS:
                raise ValueError(
                    f"unknown metric '{name}'; known: "
                    f"{', '.join(OVERALL_METRICS)}")
        return table

    @pydantic.model_validator(mode="after")
    def _has_rules(self):
        if not (self.overall or self.regression or self.group_rules):
            raise ValueError(
                "the policy sets no rule: give [overall], [regression] or "
                "[[group_rules]]")
        return self

    @pydantic.model_validator(mode="after")
    def _intervals_for_interval_rules(self):
        for i, rule in enumerate(self.group_rules):
            if rule.gate_on == "upper_bound" and not self.confidence_intervals:
                raise ValueError(
                    f"group_rules[{i}] gates on the interval's upper bound, "
                    "which needs confidence_intervals = true")
        return self

    @pydantic.field_validator("regression")
    @classmethod
    def _tolerances_in_range(cls, table: Dict[str, float]) -> dict:
        for name, tolerance in table.items():
            _check_unit(tolerance, name)
        return table


def _split(group: str) -> List[str]:
    return [part.strip() for part in group.split(",") if part.strip()]


def _check_feature(name: str) -> None:
    if name not in config.SLICE_FEATURES:
        raise ValueError(
            f"unknown slice feature '{name}'; known: "
            f"{', '.join(config.SLICE_FEATURES)}")


def parse_group(text: str) -> Tuple[Tuple[str, str], ...]:
    """'sex=female,class=First' -> (('sex', 'female'), ('class', 'First'))."""
    pairs = []
    for part in _split(text):
        if "=" not in part:
            raise ValueError(
                f"'{part}' should read feature=value, e.g. sex=female")
        name, value = (s.strip() for s in part.split("=", 1))
        _check_feature(name)
        known = features.VOCABULARIES[name]
        if value not in known:
            raise ValueError(
                f"unknown value '{value}' for {name}; known: "
                f"{', '.join(known)}")
        pairs.append((name, value))
    return tuple(pairs)


def _location(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _describe(error: dict) -> str:
    loc = tuple(p for p in error["loc"] if p not in ("function-after",))
    where = _location(loc) or "policy"
    if error["type"] == "extra_forbidden":
        parent = _location(loc[:-1]) or "the top level"
        return f"unknown key '{loc[-1]}' in {parent}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return f"{where}: {message}"


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Parses and checks a policy's TOML text."""
    try:
        raw = tomli.loads(text)
    except tomli.TOMLDecodeError as error:
        raise PolicyError(f"{source} is not valid TOML: {error}") from None
    try:
        return Policy.model_validate(raw)
    except pydantic.ValidationError as error:
        problems = "\n  - ".join(_describe(e) for e in error.errors())
        raise PolicyError(f"{source} is refused:\n  - {problems}") from None


def load_policy(path: pathlib.Path = DEFAULT_POLICY) -> Policy:
    """Reads and checks a policy file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise PolicyError(f"policy file not found: {path}")
    return parse_policy(path.read_text(), source=str(path))
