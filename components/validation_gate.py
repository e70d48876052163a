"""DataValidationGate: a custom component that stops the pipeline when
ExampleValidator found anomalies.

ExampleValidator records anomalies but never fails, so a Tuner or Trainer
downstream would train on data that breaks the schema. The pipeline puts this
gate between them; it raises `DataValidationError`, whose message lists each
anomaly in words, and the run ends before any training.
"""

import logging
import os
from typing import List

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

logger = logging.getLogger(__name__)

ANOMALIES_FILE = "SchemaDiff.pb"


class DataValidationError(ValueError):
    """The examples do not match the schema."""


def read_anomalies(artifact: types.Artifact) -> List[str]:
    """Describes every anomaly in an ExampleAnomalies artifact, by split."""
    problems = []
    splits = artifact_utils.decode_split_names(artifact.split_names)
    for split in splits:
        path = os.path.join(artifact.uri, f"Split-{split}", ANOMALIES_FILE)
        anomalies = anomalies_pb2.Anomalies()
        with tf.io.gfile.GFile(path, "rb") as f:
            anomalies.ParseFromString(f.read())
        for feature, info in sorted(anomalies.anomaly_info.items()):
            problems.append(
                f"split '{split}', column '{feature}': {_describe(info)}")
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            problems.append(f"split '{split}': {_describe(info)}")
    return problems


def _describe(info: anomalies_pb2.AnomalyInfo) -> str:
    text = info.description or info.short_description
    return " ".join(text.split())


@component
def DataValidationGate(
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
) -> None:
    """Raises DataValidationError when the examples have any anomaly."""
    problems = read_anomalies(anomalies)
    if problems:
        raise DataValidationError(
            "data validation found {} anomal{} against the schema:\n  - {}"
            .format(len(problems), "y" if len(problems) == 1 else "ies",
                    "\n  - ".join(problems)))
    logger.info("data validation: no anomalies in %s", anomalies.uri)
