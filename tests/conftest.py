"""Shared fixtures: the shipped table and tf.Examples built as CsvExampleGen
builds them (int64 for whole-number columns, float for the others, a
present-but-empty feature for a missing value)."""

import csv
import pathlib
from typing import Dict, List, Optional

import pytest
import tensorflow as tf

from components.model import features

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED_DATA = ROOT / "data" / "titanic.csv"


def make_example(row: Dict[str, Optional[object]]) -> bytes:
    """Serializes one row; None becomes an empty list of the column's type."""
    feature = {}
    for name, value in row.items():
        if name in features.FLOAT_FEATURES:
            values = [] if value is None else [float(value)]
            feature[name] = tf.train.Feature(
                float_list=tf.train.FloatList(value=values))
        elif name in features.INT_FEATURES or name == features.LABEL:
            values = [] if value is None else [int(value)]
            feature[name] = tf.train.Feature(
                int64_list=tf.train.Int64List(value=values))
        else:
            values = [] if value is None else [str(value).encode()]
            feature[name] = tf.train.Feature(
                bytes_list=tf.train.BytesList(value=values))
    return tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()


def read_rows(path: pathlib.Path = SHIPPED_DATA) -> List[Dict[str, object]]:
    """The CSV as dicts, with '' turned into None."""
    with open(path, newline="") as f:
        return [{k: (v if v != "" else None) for k, v in row.items()}
                for row in csv.DictReader(f)]


@pytest.fixture(scope="session")
def shipped_rows() -> List[Dict[str, object]]:
    return read_rows()


@pytest.fixture
def passenger() -> Dict[str, object]:
    """A complete, ordinary row."""
    return {
        "survived": 1, "sex": "female", "age": 29.0,
        "n_siblings_spouses": 0, "parch": 0, "fare": 211.3375,
        "class": "First", "deck": "B", "embark_town": "Southampton",
        "alone": "y",
    }
