"""What a pipeline run did, read back from ML Metadata and its artifacts.

runner.py calls `collect(...)` after a run and prints `render(...)`; the
end-to-end tests read the same `RunSummary`.
"""

import dataclasses
import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.fairness_gate import DECISION_FILE, SliceKey, read_metrics
from components.model import features
from pipeline import config, report
from pipeline.evaluation import (
    AUC,
    BINARY_ACCURACY,
    EXAMPLE_COUNT,
    slice_name,
)

_STATES = {
    metadata_store_pb2.Execution.COMPLETE: "ran",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}



@dataclasses.dataclass
class ComponentRun:
    """One node's execution in a pipeline run."""

    node_id: str
    state: str
    outputs: Dict[str, List[str]]  # output key -> artifact URIs


@dataclasses.dataclass
class SliceMetrics:
    """Metrics of one slice of the eval split."""

    slice_key: SliceKey
    values: Dict[str, float]
    intervals: Dict[str, Tuple[float, float]] = dataclasses.field(
        default_factory=dict)

    @property
    def name(self) -> str:
        return slice_name(dict(self.slice_key))

    def get(self, key: str) -> float:
        return self.values.get(key, math.nan)


@dataclasses.dataclass
class RunSummary:
    """The facts a person needs after a run."""

    run_id: str
    components: List[ComponentRun]
    trial_count: Optional[int] = None
    best_hyperparameters: Dict[str, object] = dataclasses.field(
        default_factory=dict)
    best_validation_auc: Optional[float] = None
    slices: List[SliceMetrics] = dataclasses.field(default_factory=list)
    report_slices: List[report.SliceRecord] = dataclasses.field(
        default_factory=list)
    thresholds: Sequence[float] = config.THRESHOLDS
    blessed: Optional[bool] = None
    decision: Optional[dict] = None
    decision_path: Optional[str] = None
    pushed: Optional[bool] = None
    pushed_to: Optional[str] = None
    serving_model_dir: Optional[str] = None
    evaluation_uri: Optional[str] = None

    def outcomes(self, *states: str) -> List[dict]:
        """Rule outcomes of the fairness gate in the given states."""
        rules = (self.decision or {}).get("rules", [])
        return [r for r in rules if not states or r["outcome"] in states]

    def component(self, node_id: str) -> Optional[ComponentRun]:
        return next(
            (c for c in self.components if c.node_id == node_id), None)

    def slice(self, **values: str) -> Optional[SliceMetrics]:
        """The slice whose features equal `values` exactly (none: overall)."""
        wanted = tuple(sorted(values.items()))
        return next(
            (s for s in self.slices if tuple(sorted(s.slice_key)) == wanted),
            None)

    def crossed_slices(self) -> List[SliceMetrics]:
        """The sex x class slices, in vocabulary order."""
        order = {
            (sex, cls): i for i, (sex, cls) in enumerate(
                (s, c) for s in features.VOCABULARIES[features.SEX]
                for c in features.VOCABULARIES[features.CLASS])
        }
        crossed = [
            s for s in self.slices
            if {k for k, _ in s.slice_key} == set(config.SLICE_FEATURES)
        ]
        return sorted(crossed, key=lambda s: order.get(
            (dict(s.slice_key)[features.SEX],
             dict(s.slice_key)[features.CLASS]), len(order)))


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    """Opens the SQLite ML Metadata store read-write (as TFX does)."""
    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = metadata_path
    connection.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE)
    return metadata_store.MetadataStore(connection)


def latest_run_id(store: metadata_store.MetadataStore) -> Optional[str]:
    runs = store.get_contexts_by_type("pipeline_run")
    if not runs:
        return None
    return max(runs, key=lambda c: (c.create_time_since_epoch, c.id)).name


def latest_output(
    metadata_path: str, node_id: str, key: str,
) -> Optional[Tuple[str, str]]:
    """(run id, URI) of the newest completed run's output `key` of
    `node_id`; runs that failed before the node are passed over."""
    store = open_store(metadata_path)
    runs = sorted(store.get_contexts_by_type("pipeline_run"),
                  key=lambda c: (c.create_time_since_epoch, c.id),
                  reverse=True)
    for run in runs:
        for component in component_runs(store, run.name):
            if (component.node_id == node_id
                    and component.state in ("ran", "cached")
                    and component.outputs.get(key)):
                return run.name, component.outputs[key][0]
    return None


def component_runs(
    store: metadata_store.MetadataStore, run_id: str,
) -> List[ComponentRun]:
    """Every execution recorded under a pipeline run, in execution order."""
    context = store.get_context_by_type_and_name("pipeline_run", run_id)
    if context is None:
        raise ValueError(f"no pipeline run '{run_id}' in ML Metadata")
    executions = sorted(
        store.get_executions_by_context(context.id), key=lambda e: e.id)
    events = store.get_events_by_execution_ids([e.id for e in executions])
    artifact_ids = {e.artifact_id for e in events}
    uris = {a.id: a.uri for a in store.get_artifacts_by_id(artifact_ids)}

    runs = []
    for execution in executions:
        node_id = _node_id(store, execution.id)
        outputs: Dict[str, List[str]] = {}
        for event in events:
            if (event.execution_id == execution.id
                    and event.type == metadata_store_pb2.Event.OUTPUT):
                key = event.path.steps[0].key if event.path.steps else ""
                outputs.setdefault(key, []).append(uris[event.artifact_id])
        state = _STATES.get(execution.last_known_state, "unknown")
        runs.append(ComponentRun(node_id, state, outputs))
    return runs


def _node_id(store, execution_id: int) -> str:
    for context in store.get_contexts_by_execution(execution_id):
        if context.type == "node" or store.get_context_types_by_id(
                [context.type_id])[0].name == "node":
            return context.name.split(".", 1)[-1]
    return f"execution-{execution_id}"


def collect(
    metadata_path: str,
    run_id: Optional[str] = None,
    serving_model_dir: Optional[str] = None,
    thresholds: Sequence[float] = config.THRESHOLDS,
) -> RunSummary:
    """Reads what the run `run_id` (default: the latest) did and found."""
    store = open_store(metadata_path)
    run_id = run_id or latest_run_id(store)
    if run_id is None:
        raise ValueError(f"no pipeline run recorded in {metadata_path}")
    summary = RunSummary(
        run_id=run_id, components=component_runs(store, run_id),
        thresholds=thresholds, serving_model_dir=serving_model_dir)

    tuner = summary.component("Tuner")
    if tuner:
        _read_tuning(summary, tuner)
    evaluator = summary.component("Evaluator")
    if evaluator and evaluator.outputs.get("evaluation"):
        summary.evaluation_uri = evaluator.outputs["evaluation"][0]
        _read_evaluation(summary, summary.evaluation_uri)
    gate = summary.component("FairnessGate")
    if gate and gate.outputs.get("blessing"):
        summary.decision_path = os.path.join(
            gate.outputs["blessing"][0], DECISION_FILE)
        with open(summary.decision_path) as f:
            summary.decision = json.load(f)
        summary.blessed = bool(summary.decision["blessed"])
    pusher = summary.component("Pusher")
    if pusher and pusher.outputs.get("pushed_model"):
        _read_push(summary, store, pusher.outputs["pushed_model"][0])
    return summary


def _read_tuning(summary: RunSummary, tuner: ComponentRun) -> None:
    hp_uri = tuner.outputs.get("best_hyperparameters", [None])[0]
    results_uri = tuner.outputs.get("tuner_results", [None])[0]
    if hp_uri and results_uri:
        tuning = report.tuning_from_tuner_outputs(hp_uri, results_uri)
        summary.trial_count = tuning.trials
        summary.best_hyperparameters = tuning.best_hyperparameters
        summary.best_validation_auc = tuning.best_validation_auc


def _read_evaluation(summary: RunSummary, uri: str) -> None:
    summary.report_slices = report.slices_from_eval_result(
        uri, summary.thresholds)
    for key, values in read_metrics(uri).items():
        summary.slices.append(SliceMetrics(
            key, {name: v.value for name, v in values.items()},
            {name: (v.lower, v.upper) for name, v in values.items()
             if v.lower is not None}))


def _read_push(summary, store, uri: str) -> None:
    artifacts = [a for a in store.get_artifacts_by_uri(uri)]
    if not artifacts:
        return
    properties = artifacts[-1].custom_properties
    summary.pushed = bool(properties["pushed"].int_value) if (
        "pushed" in properties) else False
    if summary.pushed and "pushed_destination" in properties:
        summary.pushed_to = properties["pushed_destination"].string_value


def report_data(summary: RunSummary) -> report.ReportData:
    """What the HTML report of a run shows, read from the run's artifacts."""
    example_gen = summary.component("CsvExampleGen")
    balance = []
    if example_gen and example_gen.outputs.get("examples"):
        balance = report.data_balance_from_examples(os.path.join(
            example_gen.outputs["examples"][0], "Split-train", "*"))
    tuning = None
    if summary.trial_count is not None:
        tuning = report.TuningSummary(
            summary.trial_count, summary.best_hyperparameters,
            summary.best_validation_auc)
    verdict = None
    if summary.decision is not None:
        verdict = report.Verdict(
            blessed=bool(summary.blessed), rules=summary.outcomes())
    return report.ReportData(
        title=f"Titanic fairness report: run {summary.run_id}",
        slices=summary.report_slices,
        thresholds=summary.thresholds,
        verdict=verdict,
        data_balance=balance,
        tuning=tuning)


def render(summary: RunSummary, seconds: Optional[float] = None) -> str:
    """The end-of-run text for a person."""
    lines = []
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    ran = [c.node_id for c in summary.components if c.state == "ran"]
    cached = [c.node_id for c in summary.components if c.state == "cached"]
    lines.append(f"Run {summary.run_id} finished{took}: "
                 f"{_count(len(ran), 'component')} executed, "
                 f"{len(cached)} from cache.")

    if summary.best_hyperparameters:
        params = ", ".join(
            f"{k}={_format_value(v)}"
            for k, v in summary.best_hyperparameters.items())
        auc = (f"; best validation AUC {summary.best_validation_auc:.3f}"
               if summary.best_validation_auc is not None else "")
        lines.append(f"Tuning:     "
                     f"{_count(summary.trial_count, 'Hyperband trial')}"
                     f"{auc}; best {params}")

    overall = summary.slice()
    if overall:
        lines.append(
            f"Evaluation: {overall.get(EXAMPLE_COUNT):.0f} eval passengers, "
            f"AUC {overall.get(AUC):.3f}, "
            f"accuracy {overall.get(BINARY_ACCURACY):.3f} "
            f"(threshold 0.5)")
        lines.append("")
        lines.append(
            "False positive / false negative rates by sex and class "
            "(FPR: predicted survived but died; FNR: predicted died but "
            "survived)")
        crossed = [r for r in summary.report_slices
                   if not r.features or set(r.features) == set(
                       config.SLICE_FEATURES)]
        lines.append(report.text_table(crossed, summary.thresholds))
        lines.append("")

    if summary.decision is not None:
        rules = summary.outcomes()
        failed = [r for r in rules if r["blocks"]]
        insufficient = summary.outcomes("insufficient")
        verdict = "BLESSED" if summary.blessed else "NOT BLESSED"
        lines.append(
            f"Gate:       {verdict} by the fairness gate: "
            f"{_count(len(rules), 'rule check')}, "
            f"{len(summary.outcomes('pass'))} pass, "
            f"{len(summary.outcomes('fail'))} fail, "
            f"{len(insufficient)} insufficient evidence")
        for rule in failed:
            lines.append(f"            blocked: {rule['message']}")
        for rule in insufficient:
            if not rule["blocks"]:
                lines.append(
                    f"            not judged: {rule['message']}")
        lines.append(f"            decision record: {summary.decision_path}")

    pusher = summary.component("Pusher")
    if summary.pushed and pusher and pusher.state == "cached":
        lines.append(f"Push:       nothing new to push; {summary.pushed_to} "
                     "was pushed by an earlier run")
    elif summary.pushed:
        lines.append(f"Push:       pushed to {summary.pushed_to}")
    elif summary.pushed is not None or summary.blessed is False:
        where = (f" {summary.serving_model_dir}"
                 if summary.serving_model_dir else " the serving directory")
        lines.append(f"Push:       blocked; nothing was written to{where}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _format_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
