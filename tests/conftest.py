"""Shared fixtures: the shipped table, tf.Examples built as CsvExampleGen
builds them (int64 for whole-number columns, float for the others, a
present-but-empty feature for a missing value), and a session's sequence of
real pipeline runs."""

import csv
import glob
import hashlib
import os
import pathlib
import subprocess
import sys
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


# A sequence of real pipeline runs in one output folder, shared by the end-
# to-end, gate and report tests. A small tuning budget keeps it to minutes.

BUDGET = ["--max-trials", "6", "--max-epochs", "3"]
POLICIES = ROOT / "pipeline" / "policies"
CSV_COLUMNS = [
    "survived", "sex", "age", "n_siblings_spouses", "parch", "fare",
    "class", "deck", "embark_town", "alone"]


def run_pipeline(output_dir, *extra):
    command = [sys.executable, str(ROOT / "runner.py"),
               "--output-dir", str(output_dir), *BUDGET, *extra]
    return subprocess.run(command, capture_output=True, text=True,
                          cwd=ROOT, timeout=1200)


def snapshot(folder: pathlib.Path) -> Dict[str, str]:
    """Every file under `folder` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def split_to_csv(examples_uri: str, split: str, path: pathlib.Path,
                 invert_label_where: Optional[Dict[str, str]] = None) -> int:
    """Writes one split of an Examples artifact as a CSV in the shipped
    layout; optionally inverts the label (survived <-> died) of the rows
    matching `invert_label_where`. Returns the number of rows."""
    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        row = {}
        for name in CSV_COLUMNS:
            feature = example.features.feature[name]
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            value = values[0] if values else ""
            row[name] = value.decode() if isinstance(value, bytes) else value
        rows.append(row)

    for row in rows:
        if invert_label_where and all(
                row[k] == v for k, v in invert_label_where.items()):
            row["survived"] = 1 - row["survived"]

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


class Run:
    """One `python runner.py` process and what ML Metadata recorded."""

    def __init__(self, output_dir: pathlib.Path, *extra):
        from pipeline import run_summary

        self.process = run_pipeline(output_dir, *extra)
        self.output = self.process.stdout + self.process.stderr
        self.summary = run_summary.collect(
            str(output_dir / "metadata.sqlite"),
            serving_model_dir=str(output_dir / "serving_model"))

    def states(self) -> Dict[str, str]:
        return {c.node_id: c.state for c in self.summary.components}

    def output_of(self, node_id: str, key: str) -> str:
        return self.summary.component(node_id).outputs[key][0]


@pytest.fixture(scope="session")
def pipeline_runs(tmp_path_factory):
    """Runs, in this order: 'cold' (overall-only policy), 'second' and
    'third' (unchanged), 'blocked' (an AUC floor no model meets), 'default'
    and 'strict' (the shipped policies), 'worse' (trained on the cold run's
    train split with every woman's label inverted, evaluated on its eval
    split, against the cold model as baseline),
    and 'bad_data' (a value outside the schema)."""
    output_dir = tmp_path_factory.mktemp("pipeline")
    serving = output_dir / "serving_model"
    overall_only = ["--policy", str(POLICIES / "overall_only.toml")]
    runs = {"dir": output_dir, "order": []}

    def run(name, *extra):
        runs[name] = Run(output_dir, *extra)
        runs["order"].append(name)

    run("cold", *overall_only)
    run("second", *overall_only)
    run("third", *overall_only)

    runs["before_blocked"] = snapshot(serving)
    unreachable = output_dir / "unreachable.toml"
    unreachable.write_text(
        "confidence_intervals = false\n[overall]\nauc = { min = 0.99 }\n")
    run("blocked", "--policy", str(unreachable))
    runs["after_blocked"] = snapshot(serving)

    run("default")
    run("strict", "--policy", str(POLICIES / "strict.toml"))

    examples = runs["cold"].output_of("CsvExampleGen", "examples")
    worse = output_dir / "worse"
    worse.mkdir()
    split_to_csv(examples, "train", worse / "train.csv",
                 invert_label_where={"sex": "female"})
    split_to_csv(examples, "eval", worse / "eval.csv")
    run("worse", "--data", str(worse / "train.csv"),
        "--eval-data", str(worse / "eval.csv"), *overall_only)
    runs["after_worse"] = snapshot(serving)

    bad_data = output_dir / "bad" / "titanic.csv"
    bad_data.parent.mkdir()
    rows = read_rows(SHIPPED_DATA)
    rows[0]["sex"] = "M"
    with open(bad_data, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    run("bad_data", "--data", str(bad_data), *overall_only)
    runs["after_all"] = snapshot(serving)
    return runs
