"""Parsing and encoding of raw tf.Examples (components/model/features.py)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from components.model import features
from tests.conftest import make_example


def parse(*rows, with_label=False):
    serialized = tf.constant([make_example(r) for r in rows])
    return {k: v.numpy()
            for k, v in features.parse_examples(serialized, with_label).items()}


@pytest.fixture
def encoder():
    columns = {
        "age": np.array([20.0, 40.0, np.nan]),
        "fare": np.array([10.0, 100.0, 30.0]),
        "n_siblings_spouses": np.array([0.0, 2.0, 1.0]),
        "parch": np.array([0.0, 0.0, 3.0]),
    }
    return features.FeatureEncoder.fit(columns)


def test_int64_columns_are_read_as_numbers(passenger):
    passenger.update(n_siblings_spouses=3, parch=2)
    columns = parse(passenger, with_label=True)
    assert columns["n_siblings_spouses"].tolist() == [3.0]
    assert columns["parch"].tolist() == [2.0]
    assert columns["survived"].tolist() == [1]


def test_missing_numbers_become_nan_whether_empty_or_absent(passenger):
    empty = dict(passenger, age=None)
    absent = {k: v for k, v in passenger.items() if k != "fare"}
    columns = parse(empty, absent, passenger)
    assert math.isnan(columns["age"][0])
    assert math.isnan(columns["fare"][1])
    assert columns["age"][2] == pytest.approx(29.0)


def test_missing_string_becomes_empty(passenger):
    columns = parse(dict(passenger, deck=None))
    assert columns["deck"].tolist() == [b""]


def test_batch_where_a_column_is_absent_everywhere(passenger):
    rows = [{k: v for k, v in passenger.items() if k != "age"}] * 2
    assert np.isnan(parse(*rows)["age"]).all()


def test_missing_label_is_minus_one(passenger):
    columns = parse(dict(passenger, survived=None), with_label=True)
    assert columns["survived"].tolist() == [-1]


def test_encoder_learns_mean_and_std_ignoring_missing(encoder):
    assert encoder.means["age"] == pytest.approx(30.0)
    assert encoder.stds["age"] == pytest.approx(10.0)
    assert encoder.means["fare"] == pytest.approx(
        np.mean(np.log1p([10.0, 100.0, 30.0])))


def encode(encoder, row):
    return encoder(parse(row)).numpy()[0]


def column_of(name, slot):
    """Index of a numeric column's slot (0: missing flag, 1: value)."""
    return 2 * features.NUMERIC_FEATURES.index(name) + slot


def one_hot_slice(name):
    start = 2 * len(features.NUMERIC_FEATURES)
    for key, vocabulary in features.VOCABULARIES.items():
        if key == name:
            return slice(start, start + len(vocabulary) + 1)
        start += len(vocabulary) + 1
    raise KeyError(name)


def test_missing_age_is_flagged_and_imputed_with_the_mean(encoder, passenger):
    encoded = encode(encoder, dict(passenger, age=None))
    assert encoded[column_of("age", 0)] == 1.0
    assert encoded[column_of("age", 1)] == 0.0
    present = encode(encoder, dict(passenger, age=40.0))
    assert present[column_of("age", 0)] == 0.0
    assert present[column_of("age", 1)] == pytest.approx(1.0)


def test_unseen_category_goes_to_the_out_of_vocabulary_slot(
        encoder, passenger):
    unseen = encode(encoder, dict(passenger, deck="Z"))[one_hot_slice("deck")]
    assert unseen.tolist() == [0.0] * 9 + [1.0]
    known = encode(encoder, dict(passenger, deck="B"))[one_hot_slice("deck")]
    assert known.argmax() == features.VOCABULARIES["deck"].index("B")
    assert known.sum() == 1.0


def test_encoded_width_matches(encoder, passenger):
    assert encode(encoder, passenger).shape == (encoder.width,)
