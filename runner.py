"""Runs the Titanic fairness pipeline locally and prints what it found.

    python runner.py                     # the whole pipeline, default budget
    python runner.py --max-trials 6      # a smaller Hyperband search
    python runner.py --policy FILE       # another fairness gate policy
    python runner.py --verbose           # show TensorFlow/TFX/Beam logs
    python runner.py slice --where sex=male,class=Second [--threshold 0.5]
    python runner.py fairness --csv FILE --label survived \
        --prediction predicted --slice sex,class [--thresholds 0.1,0.5,0.9]

Runs on Beam with an SQLite ML Metadata store under --output-dir, and
writes an HTML fairness report per run. Exit status: 0 when the command
completes (a blocked push included), 1 when it fails, 2 on bad arguments or
input.
"""

import argparse
import contextlib
import csv
import datetime
import logging
import os
import pathlib
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent
DEFAULT_DATA = ROOT / "data" / "titanic.csv"
MODULE_FILE = ROOT / "components" / "model" / "titanic_model.py"
SCHEMA_FILE = ROOT / "pipeline" / "schema" / "schema.pbtxt"
DEFAULT_POLICY = ROOT / "pipeline" / "policies" / "default.toml"


class UsageError(Exception):
    """Bad input found before the pipeline starts."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Tune, train, evaluate for fairness and push the Titanic "
        "survival model.",
        epilog="Other commands: 'runner.py slice --help' (a slice's "
        "passengers with false positives and negatives marked) and "
        "'runner.py fairness --help' (the fairness report of any table that "
        "holds predictions).")
    parser.add_argument(
        "--data", type=pathlib.Path, default=DEFAULT_DATA,
        help="CSV table in the shipped layout (default: %(default)s)")
    parser.add_argument(
        "--eval-data", type=pathlib.Path, default=None,
        help="a second CSV, in the same folder as --data, used as the eval "
        "split; --data is then the train split (default: split --data 2:1 "
        "by a hash of each row)")
    _output_dir_option(parser)
    parser.add_argument(
        "--max-trials", type=int, default=None,
        help="cap on Hyperband trials (default: a full Hyperband iteration)")
    parser.add_argument(
        "--max-epochs", type=int, default=None,
        help="Hyperband max_epochs (default: 10, pipeline/config.py)")
    parser.add_argument(
        "--train-epochs", type=int, default=None,
        help="most epochs the Trainer runs; early stopping usually ends it "
        "sooner (default: 30, pipeline/config.py)")
    parser.add_argument(
        "--policy", type=pathlib.Path, default=DEFAULT_POLICY,
        help="fairness gate policy, a TOML file (default: %(default)s)")
    parser.add_argument(
        "--no-cache", action="store_true",
        help="re-execute every component even when its inputs are unchanged")
    return parser.parse_args(argv)


def _output_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", type=pathlib.Path, default=pathlib.Path("outputs"),
        help="pipeline artifacts, metadata store, serving models, reports "
        "and logs (default: %(default)s)")
    parser.add_argument(
        "--verbose", action="store_true",
        help="show TensorFlow, TFX and Beam logs instead of writing them "
        "only to the log file")


def parse_slice_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="runner.py slice",
        description="Print the eval-split passengers of one slice from the "
        "latest run, with false positives and false negatives marked, and "
        "the slice's rates.")
    parser.add_argument(
        "--where", required=True,
        help="feature=value pairs, comma separated, e.g. sex=male,class=Second")
    parser.add_argument(
        "--threshold", type=float, default=0.5,
        help="predicted probability above which a passenger counts as "
        "survived (default: %(default)s)")
    _output_dir_option(parser)
    return parser.parse_args(argv)


def parse_fairness_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="runner.py fairness",
        description="Evaluate a table that already holds predictions with "
        "TFMA and Fairness Indicators, and write the HTML report.")
    parser.add_argument("--csv", type=pathlib.Path, required=True,
                        help="the table")
    parser.add_argument("--label", required=True,
                        help="column of the true 0/1 label")
    parser.add_argument("--prediction", required=True,
                        help="column of the predicted probability")
    parser.add_argument("--slice", required=True,
                        help="columns to slice on, comma separated")
    parser.add_argument(
        "--thresholds", default=",".join(str(t) for t in (0.1, 0.5, 0.9)),
        help="decision thresholds, comma separated (default: %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="report path (default: under --output-dir)")
    _output_dir_option(parser)
    return parser.parse_args(argv)


def check_data(path: pathlib.Path) -> None:
    """Fails early, naming the problem, when the table cannot be used."""
    from components.model import features

    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the CSV file itself")
    if not path.is_file():
        raise UsageError(f"data file not found: {path}")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            has_rows = any(any(cell.strip() for cell in row) for row in reader)
    except (csv.Error, UnicodeDecodeError) as error:
        raise UsageError(
            f"{path} is not a readable CSV file: {error}") from None
    required = (features.LABEL,) + features.FEATURES
    missing = [name for name in required if name not in header]
    if missing:
        raise UsageError(
            f"{path} lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(required)}")
    if not has_rows:
        raise UsageError(f"{path} has a header but no data rows")


def check_output_dir(path: pathlib.Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"--output-dir {path} exists and is not a folder")


@contextlib.contextmanager
def terminal_only_for_progress(log_path: pathlib.Path):
    """Sends everything written to stdout and stderr, C++ libraries
    included, to `log_path`, and yields a stream to the real terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def configure_logging(verbose: bool) -> None:
    """Python logging to stderr, at INFO so TFX's progress records exist;
    stderr is the run log unless --verbose."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        warnings.filterwarnings("ignore")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def run(args: argparse.Namespace, terminal, stamp: str) -> int:
    """Builds and runs the pipeline; returns the exit status."""
    from absl import logging as absl_logging
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline import config, report, run_summary
    from pipeline.pipeline import create_pipeline
    from pipeline.policy import PolicyError, load_policy
    from pipeline.progress import ComponentProgress

    check_data(args.data)
    if args.eval_data is not None:
        check_data(args.eval_data)
        if args.eval_data.resolve().parent != args.data.resolve().parent:
            raise UsageError(
                f"--eval-data {args.eval_data} must sit in the same folder "
                f"as --data {args.data}")
        if args.eval_data.resolve() == args.data.resolve():
            raise UsageError(
                "--eval-data is the --data file itself: the model would be "
                "judged on the rows it was trained on")
    try:
        chosen = {"max_epochs": args.max_epochs,
                  "max_trials": args.max_trials,
                  "train_epochs": args.train_epochs}
        budget = config.TuningBudget(
            **{k: v for k, v in chosen.items() if v is not None})
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        policy = load_policy(args.policy)
    except PolicyError as error:
        raise UsageError(str(error)) from None

    absl_logging.set_verbosity(absl_logging.INFO)
    output_dir = args.output_dir.resolve()
    metadata_path = output_dir / "metadata.sqlite"
    serving_dir = output_dir / "serving_model"
    pipeline = create_pipeline(
        pipeline_root=str(output_dir / "pipeline"),
        data_path=str(args.data.resolve()),
        eval_data_path=(str(args.eval_data.resolve())
                        if args.eval_data else None),
        module_file=str(MODULE_FILE),
        schema_path=str(SCHEMA_FILE),
        serving_model_dir=str(serving_dir),
        metadata_path=str(metadata_path),
        policy=policy,
        budget=budget,
        beam_pipeline_args=list(config.LOCAL_BEAM_ARGS),
        enable_cache=not args.no_cache,
    )

    progress = ComponentProgress(terminal, total=len(pipeline.components))
    logging.getLogger().addHandler(progress)
    started = time.monotonic()
    try:
        LocalDagRunner().run(pipeline)
    except Exception as error:  # any failure ends the run with its reason
        progress.interrupt()
        logging.exception("pipeline run failed")
        terminal.write(f"\nRun failed: {_reason(error)}\n")
        return 1
    finally:
        logging.getLogger().removeHandler(progress)
    seconds = time.monotonic() - started

    summary = run_summary.collect(
        str(metadata_path), serving_model_dir=str(serving_dir))
    terminal.write("\n" + run_summary.render(summary, seconds) + "\n")

    report_path = output_dir / "reports" / f"run-{stamp}.html"
    try:
        report.write_report(report_path, run_summary.report_data(summary))
    except Exception as error:  # the run itself is done; say what failed
        logging.exception("report failed")
        terminal.write(f"Report:     not written: {_reason(error)}\n")
        return 1
    terminal.write(f"Report:     {report_path}\n")
    return 0


def slice_command(args: argparse.Namespace, terminal, stamp: str) -> int:
    """Prints one slice of the latest run's eval predictions."""
    from components.predictions import PREDICTIONS_FILE
    from pipeline import drilldown, run_summary

    if not 0.0 <= args.threshold <= 1.0:  # also refuses nan
        raise UsageError(
            f"--threshold must lie in [0, 1], got {args.threshold}")
    try:
        where = drilldown.parse_where(args.where)
    except ValueError as error:
        raise UsageError(str(error)) from None
    metadata_path = args.output_dir / "metadata.sqlite"
    if not metadata_path.is_file():
        raise UsageError(
            f"no pipeline run under {args.output_dir}: run "
            "'python runner.py' first")
    found = run_summary.latest_output(
        str(metadata_path.resolve()), "PredictionsExporter", "predictions")
    if found is None:
        raise UsageError(
            f"no run under {args.output_dir} exported predictions yet")
    run_id, predictions_uri = found
    csv_path = os.path.join(predictions_uri, PREDICTIONS_FILE)
    try:
        selection = drilldown.select_rows(csv_path, where, args.threshold)
    except ValueError as error:
        raise UsageError(str(error)) from None
    terminal.write(f"Run {run_id}, eval split ({csv_path})\n")
    terminal.write(selection.render() + "\n")
    return 0


def fairness_command(args: argparse.Namespace, terminal, stamp: str) -> int:
    """Evaluates a table of predictions and writes its report."""
    from pipeline import drilldown, report

    try:
        thresholds = [float(t) for t in args.thresholds.split(",") if t]
    except ValueError:
        raise UsageError(
            f"--thresholds must be numbers, e.g. 0.1,0.5,0.9; got "
            f"{args.thresholds}") from None
    if not thresholds or any(not 0.0 <= t <= 1.0 for t in thresholds):
        raise UsageError(f"--thresholds must lie in [0, 1]: {args.thresholds}")
    slice_features = [s.strip() for s in args.slice.split(",") if s.strip()]
    if not args.csv.is_file():
        raise UsageError(f"table not found: {args.csv}")
    try:
        slices = drilldown.evaluate_table(
            args.csv, label=args.label, prediction=args.prediction,
            slice_features=slice_features, thresholds=thresholds)
    except ValueError as error:
        raise UsageError(f"{args.csv}: {error}") from None

    out = args.out or (
        args.output_dir / "reports" / f"fairness-{args.csv.stem}-{stamp}.html")
    try:
        report.write_report(out, report.ReportData(
            title=f"Fairness report: {args.csv.name}", slices=slices,
            thresholds=thresholds))
    except (ValueError, OSError) as error:
        raise UsageError(f"no report written to {out}: {error}") from None
    terminal.write(report.text_table(slices, thresholds) + "\n")
    terminal.write(f"Report: {out.resolve()}\n")
    return 0


def _reason(error: BaseException) -> str:
    """The innermost message of an exception chain, with its type."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"


COMMANDS = {
    "slice": (parse_slice_args, slice_command),
    "fairness": (parse_fairness_args, fairness_command),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv and argv[0] in COMMANDS else "run"
    if name == "run":
        args, command = parse_args(argv), run
    else:
        parse, command = COMMANDS[name]
        args = parse(argv[1:])
    sys.path.insert(0, str(ROOT))
    try:
        check_output_dir(args.output_dir)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    log_dir = args.output_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = (log_dir / f"{name}-{stamp}.log").resolve()
    configure_logging(args.verbose)

    try:
        if args.verbose:
            status = command(args, sys.stdout, stamp)
        else:
            with terminal_only_for_progress(log_path) as terminal:
                status = command(args, terminal, stamp)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if name == "run" or status != 0:
        print(f"Log: {log_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
