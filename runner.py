"""Runs the Titanic fairness pipeline locally and prints what it found.

    python runner.py                     # the whole pipeline, default budget
    python runner.py --max-trials 6      # a smaller Hyperband search
    python runner.py --verbose           # show TensorFlow/TFX/Beam logs

Runs on Beam's DirectRunner with an SQLite ML Metadata store under
--output-dir. Exit status: 0 when the run completes (a blocked push
included), 1 when it fails, 2 on bad arguments.
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
        "survival model.")
    parser.add_argument(
        "--data", type=pathlib.Path, default=DEFAULT_DATA,
        help="CSV table in the shipped layout (default: %(default)s)")
    parser.add_argument(
        "--output-dir", type=pathlib.Path, default=pathlib.Path("outputs"),
        help="pipeline artifacts, metadata store, serving models and logs "
        "(default: %(default)s)")
    parser.add_argument(
        "--max-trials", type=int, default=None,
        help="cap on Hyperband trials (default: a full Hyperband iteration)")
    parser.add_argument(
        "--max-epochs", type=int, default=10,
        help="Hyperband max_epochs (default: %(default)s)")
    parser.add_argument(
        "--train-epochs", type=int, default=30,
        help="most epochs the Trainer runs; early stopping usually ends it "
        "sooner (default: %(default)s)")
    parser.add_argument(
        "--policy", type=pathlib.Path, default=DEFAULT_POLICY,
        help="fairness gate policy, a TOML file (default: %(default)s)")
    parser.add_argument(
        "--no-cache", action="store_true",
        help="re-execute every component even when its inputs are unchanged")
    parser.add_argument(
        "--verbose", action="store_true",
        help="show TensorFlow, TFX and Beam logs instead of writing them "
        "only to the run log")
    return parser.parse_args(argv)


def check_data(path: pathlib.Path) -> None:
    """Fails early, naming the problem, when the table cannot be used."""
    from components.model import features

    if not path.is_file():
        raise UsageError(f"data file not found: {path}")
    with open(path, newline="") as f:
        header = next(csv.reader(f), [])
    required = (features.LABEL,) + features.FEATURES
    missing = [name for name in required if name not in header]
    if missing:
        raise UsageError(
            f"{path} lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(required)}")


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


def run(args: argparse.Namespace, terminal) -> int:
    """Builds and runs the pipeline; returns the exit status."""
    from absl import logging as absl_logging
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline import config, run_summary
    from pipeline.pipeline import create_pipeline
    from pipeline.policy import PolicyError, load_policy
    from pipeline.progress import ComponentProgress

    check_data(args.data)
    try:
        budget = config.TuningBudget(
            max_epochs=args.max_epochs, max_trials=args.max_trials,
            train_epochs=args.train_epochs)
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
    return 0


def _reason(error: BaseException) -> str:
    """The innermost message of an exception chain, with its type."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))

    log_dir = args.output_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = (log_dir / f"run-{stamp}.log").resolve()
    configure_logging(args.verbose)

    try:
        if args.verbose:
            status = run(args, sys.stdout)
        else:
            with terminal_only_for_progress(log_path) as terminal:
                status = run(args, terminal)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Log: {log_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
