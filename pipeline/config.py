"""Settings the pipeline definition, the runner and the tests agree on.

Feature names come from `components.model.features`; this module adds what
is about evaluation and tuning: the sensitive slice features, the decision
thresholds and the budget. Nothing here reads files or the environment.
"""

import dataclasses
from typing import Optional, Tuple

from components.model import features

PIPELINE_NAME = "titanic_fairness"

# Sensitive features the Evaluator slices on, alone and crossed.
SLICE_FEATURES: Tuple[str, ...] = (features.SEX, features.CLASS)

# Decision thresholds at which Fairness Indicators are computed. The metric
# keys carry as many decimals as the most precise threshold here.
THRESHOLDS: Tuple[float, ...] = (0.1, 0.5, 0.9)

# CsvExampleGen hash-buckets rows into train and eval by this ratio.
TRAIN_BUCKETS = 2
EVAL_BUCKETS = 1

# Beam options for local runs. Beam 2.74's DirectRunner first tries its Prism
# runner, which downloads a binary from GitHub at run time; the FnApiRunner
# is what DirectRunner falls back to for batch pipelines, and needs nothing
# from the network.
LOCAL_BEAM_ARGS: Tuple[str, ...] = (
    "--runner=apache_beam.runners.portability.fn_api_runner.fn_runner"
    ".FnApiRunner",
)


@dataclasses.dataclass(frozen=True)
class TuningBudget:
    """How much the Tuner searches and the Trainer trains.

    The defaults are one full Hyperband iteration over the model's search
    space (max_epochs 10, factor 3: 30 trials). `max_trials` caps the trial
    count; None means no cap. Both searching and training stop early after
    `patience` epochs without a better validation AUC; the Trainer keeps the
    best epoch's weights.
    """

    max_epochs: int = 10
    factor: int = 3
    hyperband_iterations: int = 1
    max_trials: Optional[int] = None
    patience: int = 5
    train_epochs: int = 30
    seed: int = 42

    def __post_init__(self):
        if self.max_epochs < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")
        if self.factor < 2:
            raise ValueError(f"factor must be >= 2, got {self.factor}")
        if self.max_trials is not None and self.max_trials < 1:
            raise ValueError(
                f"max_trials must be >= 1 or None, got {self.max_trials}")
        if self.train_epochs < 1:
            raise ValueError(
                f"train_epochs must be >= 1, got {self.train_epochs}")

    def as_custom_config(self) -> dict:
        """The dict the Tuner and Trainer receive as `custom_config`."""
        return dataclasses.asdict(self)


def slice_combinations() -> Tuple[Tuple[str, ...], ...]:
    """Feature sets to slice on: each sensitive feature, then all crossed."""
    return tuple((name,) for name in SLICE_FEATURES) + (SLICE_FEATURES,)
