"""PredictionsExporter: a custom component that scores the eval split with
the trained model and writes predictions.csv.

The pipeline runs it after the Trainer; `pipeline.drilldown` reads the CSV to
recompute fairness metrics from the predictions and to list the passengers
behind a slice's false positives and negatives. The CSV holds every column
of the split as CsvExampleGen stored it (a missing value is an empty field),
the label column among them, and `predicted`, the model's probability.
"""

import csv
import logging
import os
from typing import Dict, Iterable, Iterator, List

import numpy as np
import tensorflow as tf
from tfx import types
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import path_utils

from components.model import features

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.csv"
PREDICTION_COLUMN = "predicted"
SIGNATURE = "serving_default"
# Name of the serving signature's input of serialized tf.Examples.
EXAMPLES_INPUT = "examples"
BATCH_SIZE = 256


class Predictions(types.Artifact):
    """A CSV of the examples of one split and the model's prediction for
    each, in `<uri>/predictions.csv`."""

    TYPE_NAME = "TitanicPredictions"


def _cell(feature: tf.train.Feature, column: str) -> str:
    """The text of a single-valued feature; '' when it has no value."""
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    if len(values) > 1:
        raise ValueError(
            f"column '{column}' holds {len(values)} values in one example; "
            "predictions.csv has room for one")
    if not values:
        return ""
    value = values[0]
    if kind == "bytes_list":
        return value.decode("utf-8")
    if kind == "float_list":
        # The shortest text that reads back as the same float32.
        return str(np.float32(value))
    return str(value)


def _read_batches(pattern: str) -> Iterator[List[bytes]]:
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {pattern}")
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    for batch in dataset.batch(BATCH_SIZE):
        yield list(batch.numpy())


def _column_order(names: Iterable[str]) -> List[str]:
    """The label, the model's features in their usual order, then any other
    column alphabetically."""
    known = [features.LABEL, *features.FEATURES]
    names = set(names)
    return [n for n in known if n in names] + sorted(names - set(known))


def export_predictions(
    examples_pattern: str, serving_model_dir: str, output_csv: str,
) -> int:
    """Scores tf.Examples with a SavedModel and writes them with predictions.

    Args:
      examples_pattern: glob of GZIP TFRecord files of one split.
      serving_model_dir: SavedModel whose 'serving_default' signature takes
        'examples' (serialized tf.Examples) and returns 'probability'.
      output_csv: the CSV to write; its folder is created.

    Returns:
      The number of rows written.

    Raises:
      FileNotFoundError: no examples match the pattern.
      ValueError: the model has no such signature, or returns no
        'probability'.
    """
    model = tf.saved_model.load(serving_model_dir)
    if SIGNATURE not in model.signatures:
        raise ValueError(
            f"model {serving_model_dir} has no '{SIGNATURE}' signature; it "
            f"has {', '.join(model.signatures) or 'none'}")
    signature = model.signatures[SIGNATURE]

    rows: List[Dict[str, str]] = []
    for serialized in _read_batches(examples_pattern):
        outputs = signature(**{EXAMPLES_INPUT: tf.constant(serialized)})
        if features.SERVING_OUTPUT not in outputs:
            raise ValueError(
                f"signature '{SIGNATURE}' of {serving_model_dir} returns "
                f"{', '.join(outputs)}, not '{features.SERVING_OUTPUT}'")
        probabilities = outputs[features.SERVING_OUTPUT].numpy().reshape(-1)
        for record, probability in zip(serialized, probabilities,
                                       strict=True):
            example = tf.train.Example.FromString(record)
            row = {name: _cell(feature, name) for name, feature
                   in example.features.feature.items()}
            # repr of the float64 of a float32 keeps it exactly.
            row[PREDICTION_COLUMN] = repr(float(probability))
            rows.append(row)

    columns = _column_order(
        {name for row in rows for name in row} - {PREDICTION_COLUMN})
    os.makedirs(os.path.dirname(os.path.abspath(output_csv)), exist_ok=True)
    with open(output_csv, "w", newline="") as f:
        writer = csv.DictWriter(
            f, fieldnames=columns + [PREDICTION_COLUMN], restval="")
        writer.writeheader()
        writer.writerows(rows)
    logger.info("Wrote %s predictions to %s", len(rows), output_csv)
    return len(rows)


def predictions_path(artifact: types.Artifact) -> str:
    """Where a Predictions artifact keeps its CSV."""
    return os.path.join(artifact.uri, PREDICTIONS_FILE)


@component
def PredictionsExporter(
    examples: InputArtifact[standard_artifacts.Examples],
    model: InputArtifact[standard_artifacts.Model],
    predictions: OutputArtifact[Predictions],
    split: Parameter[str] = "eval",
) -> None:
    """Scores one split (default 'eval') with the model's serving signature
    and writes predictions.csv into the output artifact."""
    split_names = artifact_utils.decode_split_names(examples.split_names)
    if split not in split_names:
        raise ValueError(
            f"examples {examples.uri} have no split '{split}'; they have "
            f"{', '.join(split_names)}")
    pattern = os.path.join(
        artifact_utils.get_split_uri([examples], split), "*.gz")
    model_dir = path_utils.serving_model_path(
        model.uri, path_utils.is_old_model_artifact(model))
    count = export_predictions(pattern, model_dir, predictions_path(
        predictions))
    predictions.set_int_custom_property("row_count", count)
    predictions.set_string_custom_property("split", split)

