"""The exported SavedModel: serialized tf.Examples in, probability out."""

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

from components.model import features, titanic_model
from tests.conftest import make_example


@pytest.fixture(scope="module")
def serving(tmp_path_factory, shipped_rows):
    """A small model trained briefly on the shipped rows, exported and
    loaded back the way the Evaluator and a server load it."""
    keras.utils.set_random_seed(0)
    serialized = tf.constant([make_example(r) for r in shipped_rows[:400]])
    columns = {k: v.numpy() for k, v in features.parse_examples(
        serialized, with_label=True).items()}
    encoder = features.FeatureEncoder.fit(columns)

    hp = keras_tuner.HyperParameters()
    hp.Fixed("units", 16)
    hp.Fixed("activation", "relu")
    hp.Fixed("learning_rate", 1e-2)
    model = titanic_model.build_model(hp, encoder.width)
    model.fit(encoder(columns).numpy(),
              columns[features.LABEL].astype("float32"),
              epochs=3, verbose=0)

    path = str(tmp_path_factory.mktemp("export") / "serving")
    titanic_model.export_serving_model(model, encoder, path)
    loaded = tf.saved_model.load(path)
    return loaded.signatures["serving_default"], encoder, model


def score(signature, *rows):
    examples = tf.constant([make_example(r) for r in rows])
    return signature(examples=examples)[features.SERVING_OUTPUT].numpy()[:, 0]


def test_signature_takes_one_string_input(serving):
    signature = serving[0]
    _, kwargs = signature.structured_input_signature
    assert list(kwargs) == ["examples"]
    assert kwargs["examples"].dtype == tf.string


def test_probability_for_ordinary_rows(serving, passenger):
    signature = serving[0]
    male = dict(passenger, sex="male", **{"class": "Third"}, fare=7.25)
    probabilities = score(signature, passenger, male)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert probabilities[0] != probabilities[1]


def test_missing_age_scores_as_the_model_does_in_training(
        serving, passenger):
    signature, encoder, model = serving
    rows = [dict(passenger, age=None), passenger]
    served = score(signature, *rows)
    columns = features.parse_examples(
        tf.constant([make_example(r) for r in rows]))
    in_training = model(encoder(columns)).numpy()[:, 0]
    assert ((served > 0) & (served < 1)).all()
    np.testing.assert_allclose(served, in_training, rtol=1e-6)


def test_absent_and_empty_features_score_alike(serving, passenger):
    signature = serving[0]
    absent = {k: v for k, v in passenger.items() if k != "age"}
    empty = dict(passenger, age=None)
    a, b = score(signature, absent, empty)
    assert a == pytest.approx(b)


def test_unseen_deck_scores_like_a_missing_deck(serving, passenger):
    signature = serving[0]
    unseen, missing, known = score(
        signature, dict(passenger, deck="Z"), dict(passenger, deck=None),
        passenger)
    assert np.isfinite([unseen, missing, known]).all()
    assert unseen == pytest.approx(missing)


def test_int64_columns_are_accepted(serving, passenger):
    signature = serving[0]
    few, many = score(
        signature, dict(passenger, n_siblings_spouses=0, parch=0),
        dict(passenger, n_siblings_spouses=5, parch=4))
    assert np.isfinite([few, many]).all()
    assert few != many


def test_label_is_not_needed_at_serving_time(serving, passenger):
    signature = serving[0]
    without_label = {k: v for k, v in passenger.items() if k != "survived"}
    assert score(signature, without_label)[0] == pytest.approx(
        score(signature, passenger)[0])
