"""Times the pipeline from the command line, as a user runs it.

    python bench/bench_pipeline.py [--repeats 1] [--out FILE]

For each policy below and each repeat, from an empty output folder: one cold
run with the default tuning budget (a full Hyperband iteration), then two
re-runs of the unchanged pipeline (the second re-evaluates against the model
the first blessed; the third is fully cached when the first was blessed).
Wall time of the whole `python runner.py` process is recorded, imports
included. Figures go to a JSON file (default bench/results/pipeline.json);
nothing is asserted.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNS = ("cold", "second", "third")
POLICIES = {
    # The default gate: group rules and TFMA bootstrap intervals.
    "default": ROOT / "pipeline" / "policies" / "default.toml",
    # Overall AUC floor and no regression only, no intervals.
    "overall_only": ROOT / "pipeline" / "policies" / "overall_only.toml",
}


def time_run(output_dir: pathlib.Path, policy: pathlib.Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), "--output-dir",
         str(output_dir), "--policy", str(policy)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path,
                        default=ROOT / "bench" / "results" / "pipeline.json")
    args = parser.parse_args()

    seconds = {p: {name: [] for name in RUNS} for p in POLICIES}
    for repeat in range(args.repeats):
        for policy, path in POLICIES.items():
            with tempfile.TemporaryDirectory() as tmp:
                for name in RUNS:
                    took = time_run(pathlib.Path(tmp), path)
                    seconds[policy][name].append(took)
                    print(f"repeat {repeat + 1}, {policy} policy: {name} run "
                          f"{took:.1f} s", flush=True)

    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(),
                    "python": platform.python_version()},
        "budget": "default (full Hyperband: max_epochs 10, factor 3)",
        "seconds": seconds,
        "median_seconds": {
            policy: {k: round(statistics.median(v), 1)
                     for k, v in runs.items()}
            for policy, runs in seconds.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
