"""Feature keys, vocabularies and the one feature path of the Titanic model.

The pipeline (schema, slicing, evaluation) imports the keys from here, and the
Tuner and Trainer module (`titanic_model.py`) uses `parse_examples` and
`FeatureEncoder` both to prepare training data and inside the exported serving
signature, so training and serving see the same transformation.
"""

from typing import Dict, Mapping, Sequence

import numpy as np
import tensorflow as tf

LABEL = "survived"

# Output of the exported serving signature: the survival probability.
SERVING_OUTPUT = "probability"

SEX = "sex"
CLASS = "class"

# Numeric columns. CsvExampleGen writes whole-number columns as int64 and the
# others as float; a missing value arrives as a present-but-empty feature.
FLOAT_FEATURES = ("age", "fare")
INT_FEATURES = ("n_siblings_spouses", "parch")
NUMERIC_FEATURES = FLOAT_FEATURES + INT_FEATURES

# Heavy-tailed columns are scaled on log1p before standardisation.
LOG_SCALED_FEATURES = ("fare",)

# Known values of each categorical column. Any other value, or a missing one,
# is encoded as out-of-vocabulary. The curated schema
# (pipeline/schema/schema.pbtxt) holds the same domains: change both together.
VOCABULARIES: Dict[str, Sequence[str]] = {
    SEX: ("female", "male"),
    CLASS: ("First", "Second", "Third"),
    "deck": ("A", "B", "C", "D", "E", "F", "G", "T", "unknown"),
    "embark_town": ("Cherbourg", "Queenstown", "Southampton", "unknown"),
    "alone": ("n", "y"),
}
CATEGORICAL_FEATURES = tuple(VOCABULARIES)

FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def _feature_dtype(name: str) -> tf.DType:
    if name in FLOAT_FEATURES:
        return tf.float32
    if name in INT_FEATURES or name == LABEL:
        return tf.int64
    return tf.string


def parse_examples(
    serialized: tf.Tensor, with_label: bool = False
) -> Dict[str, tf.Tensor]:
    """Parses serialized tf.Examples into one dense [batch] tensor per column.

    Every column is read as a variable-length feature so that a missing or
    empty value never fails the parse: numbers become NaN and strings the
    empty string, which `FeatureEncoder` treats as missing.

    Args:
      serialized: string tensor of shape [batch].
      with_label: also return the label column (int64, -1 when missing).

    Returns:
      Dict from column name to a float32 (numeric and label) or string tensor
      of shape [batch].
    """
    names = FEATURES + ((LABEL,) if with_label else ())
    spec = {name: tf.io.VarLenFeature(_feature_dtype(name)) for name in names}
    parsed = tf.io.parse_example(serialized, spec)

    columns = {}
    for name in names:
        dtype = _feature_dtype(name)
        if dtype == tf.string:
            default = ""
        elif name == LABEL:
            default = tf.constant(-1, tf.int64)
        elif dtype == tf.int64:
            default = tf.constant(np.iinfo(np.int64).min, tf.int64)
        else:
            default = tf.constant(np.nan, tf.float32)
        dense = tf.sparse.to_dense(parsed[name], default_value=default)
        # Pad one column so that a batch where the feature is absent from
        # every example still has a first value to take.
        dense = tf.pad(dense, [[0, 0], [0, 1]], constant_values=default)
        column = dense[:, 0]
        if dtype == tf.int64 and name != LABEL:
            missing = tf.equal(column, default)
            column = tf.where(
                missing, tf.constant(np.nan, tf.float32),
                tf.cast(column, tf.float32))
        columns[name] = column
    return columns


class FeatureEncoder(tf.Module):
    """Turns parsed columns into the model's dense float input.

    Numeric columns: a missing-value indicator, then the value standardised
    with the training mean and standard deviation (missing becomes the mean,
    i.e. 0). Categorical columns: one-hot over the vocabulary plus one
    out-of-vocabulary slot for unseen or missing values.
    """

    def __init__(self, means: Mapping[str, float], stds: Mapping[str, float]):
        super().__init__(name="feature_encoder")
        self.means = {k: float(means[k]) for k in NUMERIC_FEATURES}
        self.stds = {k: max(float(stds[k]), 1e-6) for k in NUMERIC_FEATURES}

    @classmethod
    def fit(cls, columns: Mapping[str, np.ndarray]) -> "FeatureEncoder":
        """Learns means and standard deviations from training columns."""
        means, stds = {}, {}
        for name in NUMERIC_FEATURES:
            values = _scale(name, np.asarray(columns[name], np.float64))
            means[name] = float(np.nanmean(values))
            stds[name] = float(np.nanstd(values))
        return cls(means, stds)

    @property
    def width(self) -> int:
        """Number of columns in the encoded input."""
        categorical = sum(len(v) + 1 for v in VOCABULARIES.values())
        return 2 * len(NUMERIC_FEATURES) + categorical

    def __call__(self, columns: Mapping[str, tf.Tensor]) -> tf.Tensor:
        parts = []
        for name in NUMERIC_FEATURES:
            value = _scale(name, tf.cast(columns[name], tf.float32))
            missing = tf.math.is_nan(value)
            standard = (value - self.means[name]) / self.stds[name]
            parts.append(tf.cast(missing, tf.float32))
            parts.append(tf.where(missing, tf.zeros_like(value), standard))
        for name, vocabulary in VOCABULARIES.items():
            value = tf.convert_to_tensor(columns[name], tf.string)
            one_hot = tf.cast(
                tf.equal(value[:, None], tf.constant(vocabulary)[None, :]),
                tf.float32)
            out_of_vocabulary = 1.0 - tf.reduce_sum(one_hot, axis=1)
            parts.append(one_hot)
            parts.append(out_of_vocabulary[:, None])
        return tf.concat(
            [p if p.shape.rank == 2 else p[:, None] for p in parts], axis=1)


def _scale(name, values):
    """Applies the log1p scaling of heavy-tailed columns (NaN stays NaN)."""
    if name in LOG_SCALED_FEATURES:
        return tf.math.log1p(values) if tf.is_tensor(values) else np.log1p(
            values)
    return values
