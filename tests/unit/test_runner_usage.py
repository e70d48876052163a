"""Input the runner refuses before anything runs: exit status 2 and a
message that names the problem, and no metadata store written."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHIPPED_DATA


def runner(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(SHIPPED_DATA, folder / "titanic.csv")
    return folder


@pytest.mark.parametrize("content, message", [
    ("", "lacks column(s) survived"),
    (SHIPPED_DATA.read_text().splitlines()[0] + "\n",
     "has a header but no data rows"),
    ("survived,sex\n1,female\n", "lacks column(s) age"),
])
def test_unusable_data_is_refused(tmp_path, content, message):
    data = tmp_path / "t.csv"
    data.write_text(content)
    result = runner("--data", str(data), "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "o" / "metadata.sqlite").exists()


def test_binary_file_is_refused(tmp_path):
    data = tmp_path / "t.csv"
    data.write_bytes(b"survived,sex\x00\x01\n")
    result = runner("--data", str(data), "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "not a readable CSV file" in result.stderr


def test_eval_data_may_not_be_the_train_data(tmp_path, data_dir):
    data = str(data_dir / "titanic.csv")
    result = runner("--data", data, "--eval-data", data,
                    "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "--eval-data is the --data file itself" in result.stderr


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = runner("--output-dir", str(target))
    assert result.returncode == 2
    assert "exists and is not a folder" in result.stderr


@pytest.mark.parametrize("threshold", ["1.5", "-1", "nan"])
def test_slice_threshold_outside_unit_interval_is_refused(tmp_path, threshold):
    result = runner("slice", "--where", "sex=male", "--threshold", threshold,
                    "--output-dir", str(tmp_path))
    assert result.returncode == 2
    assert "--threshold must lie in [0, 1]" in result.stderr


def test_policy_without_rules_is_refused(tmp_path):
    policy = tmp_path / "empty.toml"
    policy.write_text("threshold = 0.5\n")
    result = runner("--policy", str(policy), "--output-dir", str(tmp_path))
    assert result.returncode == 2
    assert "the policy sets no rule" in result.stderr
