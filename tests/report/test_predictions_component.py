"""PredictionsExporter on a finished run's eval split and model."""

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components import predictions
from components.model import features


def _artifact(kind, uri, **properties):
    artifact = kind()
    artifact.uri = str(uri)
    for name, value in properties.items():
        setattr(artifact, name, value)
    return artifact


def test_executor_writes_predictions_csv(pipeline_artifacts, tmp_path):
    examples = _artifact(
        standard_artifacts.Examples, pipeline_artifacts.eval_examples.split(
            "/Split-eval")[0], split_names=json.dumps(["train", "eval"]))
    model = _artifact(standard_artifacts.Model, pipeline_artifacts.model)
    output = _artifact(predictions.Predictions, tmp_path)

    executor = predictions.PredictionsExporter.EXECUTOR_SPEC.executor_class()
    executor.Do({"examples": [examples], "model": [model]},
                {"predictions": [output]}, {"split": "eval"})

    table = pd.read_csv(predictions.predictions_path(output))
    count = sum(1 for _ in tf.data.TFRecordDataset(
        tf.io.gfile.glob(pipeline_artifacts.eval_examples),
        compression_type="GZIP"))
    assert len(table) == count == output.get_int_custom_property("row_count")
    assert list(table.columns) == [
        features.LABEL, *features.FEATURES, predictions.PREDICTION_COLUMN]
    assert table["predicted"].between(0, 1).all()
    # Missing ages stay missing: empty in the CSV, NaN here.
    assert table["age"].isna().any()
    assert not table["sex"].isna().any()


def test_executor_names_a_missing_split(pipeline_artifacts, tmp_path):
    examples = _artifact(standard_artifacts.Examples, tmp_path,
                         split_names=json.dumps(["train"]))
    model = _artifact(standard_artifacts.Model, pipeline_artifacts.model)
    executor = predictions.PredictionsExporter.EXECUTOR_SPEC.executor_class()
    with pytest.raises(ValueError, match="no split 'eval'.*train"):
        executor.Do({"examples": [examples], "model": [model]},
                    {"predictions": [_artifact(predictions.Predictions,
                                               tmp_path)]},
                    {"split": "eval"})


def test_exported_probabilities_equal_the_serving_signature(
        pipeline_artifacts, pipeline_predictions):
    table = pd.read_csv(pipeline_predictions)
    serialized = [r.numpy() for r in tf.data.TFRecordDataset(
        tf.io.gfile.glob(pipeline_artifacts.eval_examples),
        compression_type="GZIP").take(20)]
    model = tf.saved_model.load(
        str(pipeline_artifacts.model / "Format-Serving"))
    scores = model.signatures["serving_default"](
        examples=tf.constant(serialized))["probability"].numpy()[:, 0]
    np.testing.assert_allclose(
        table["predicted"].to_numpy()[:20], scores, rtol=0, atol=1e-6)


def test_component_declares_its_artifacts():
    spec = predictions.PredictionsExporter.SPEC_CLASS
    assert spec.INPUTS["examples"].type is standard_artifacts.Examples
    assert spec.INPUTS["model"].type is standard_artifacts.Model
    assert spec.OUTPUTS["predictions"].type is predictions.Predictions
