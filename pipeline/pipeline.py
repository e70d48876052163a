"""`create_pipeline`: the Titanic fairness pipeline as TFX components.

runner.py calls it with settings from the command line; the same definition
can be handed to any TFX orchestrator.
"""

import os
from typing import List, Optional

import tensorflow_model_analysis as tfma
from tfx.components import (
    CsvExampleGen,
    Evaluator,
    ExampleValidator,
    Pusher,
    StatisticsGen,
    Trainer,
    Tuner,
)
from tfx.components.schema_gen.import_schema_gen.component import (
    ImportSchemaGen,
)
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration import metadata
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2, pusher_pb2
from tfx.types import Channel, standard_artifacts

from components.fairness_gate import FairnessGate
from components.predictions import PredictionsExporter
from components.validation_gate import DataValidationGate
from pipeline import config
from pipeline.evaluation import make_eval_config
from pipeline.policy import Policy


def create_pipeline(
    *,
    pipeline_root: str,
    data_path: str,
    eval_data_path: Optional[str] = None,
    module_file: str,
    schema_path: str,
    serving_model_dir: str,
    metadata_path: Optional[str],
    policy: Policy,
    budget: Optional[config.TuningBudget] = None,
    eval_config: Optional[tfma.EvalConfig] = None,
    pipeline_name: str = config.PIPELINE_NAME,
    beam_pipeline_args: Optional[List[str]] = None,
    enable_cache: bool = True,
) -> tfx_pipeline.Pipeline:
    """Builds the pipeline.

    Args:
      pipeline_root: folder for every component's outputs.
      data_path: the CSV file CsvExampleGen reads and splits train:eval by
        a hash of each row (a glob pattern may stand for its file name).
      eval_data_path: with it, `data_path` is the train split and this CSV,
        in the same folder, the eval split; nothing is split by hash.
      module_file: the Tuner's and Trainer's module (tuner_fn, run_fn). It
        must sit in a folder of its own: TFX hashes every .py file beside it
        into the cache key.
      schema_path: curated schema (.pbtxt) that ImportSchemaGen publishes.
      serving_model_dir: where the Pusher writes versioned SavedModels.
      metadata_path: SQLite ML Metadata file; None leaves the connection to
        the orchestrator.
      policy: the fairness gate policy (pipeline.policy.load_policy).
      budget: Tuner and Trainer budget (default: config.TuningBudget()).
      eval_config: replaces the TFMA config built from the policy.
      pipeline_name: name in ML Metadata; runs of one name share a cache.
      beam_pipeline_args: options for the Beam-based components.
      enable_cache: reuse outputs of components whose inputs are unchanged.

    Returns:
      A TFX pipeline.
    """
    example_gen = _example_gen(data_path, eval_data_path)

    statistics_gen = StatisticsGen(
        examples=example_gen.outputs["examples"])

    schema_gen = ImportSchemaGen(schema_file=schema_path)

    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"])

    validation_gate = DataValidationGate(
        anomalies=example_validator.outputs["anomalies"])

    # The module file tunes and trains on the train split only, holding out
    # a quarter of it for validation; the eval split is the Evaluator's alone.
    custom_config = (budget or config.TuningBudget()).as_custom_config()
    tuner = Tuner(
        module_file=module_file,
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        custom_config=custom_config)
    tuner.add_upstream_node(validation_gate)

    trainer = Trainer(
        module_file=module_file,
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=tuner.outputs["best_hyperparameters"],
        custom_config=custom_config)
    trainer.add_upstream_node(validation_gate)

    # The baseline is the last model the fairness gate blessed; the
    # Evaluator's own blessing covers only the thresholds TFMA can express.
    model_resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(
            type=standard_artifacts.ModelBlessing,
            producer_component_id="FairnessGate", output_key="blessing"),
    ).with_id("latest_blessed_model_resolver")

    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        example_splits=["eval"],
        eval_config=eval_config or make_eval_config(policy))

    # The eval split with the model's probability, for the report and the
    # drill-down into a slice's false positives and negatives.
    predictions = PredictionsExporter(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"])

    fairness_gate = FairnessGate(
        model=trainer.outputs["model"],
        evaluation=evaluator.outputs["evaluation"],
        policy=policy.model_dump_json())

    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=fairness_gate.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(
                base_directory=serving_model_dir)))

    metadata_config = (
        metadata.sqlite_metadata_connection_config(
            metadata_path) if metadata_path else None)
    return tfx_pipeline.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[
            example_gen, statistics_gen, schema_gen, example_validator,
            validation_gate, tuner, trainer, predictions, model_resolver,
            evaluator, fairness_gate, pusher,
        ],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_config,
        beam_pipeline_args=beam_pipeline_args or [],
    )


def _example_gen(data_path: str, eval_data_path: Optional[str]):
    """CsvExampleGen over one table split by hash, or over two tables."""
    folder = os.path.dirname(os.path.abspath(data_path))
    if eval_data_path is None:
        return CsvExampleGen(
            input_base=folder,
            input_config=example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(
                    name="single_split", pattern=os.path.basename(data_path)),
            ]),
            output_config=example_gen_pb2.Output(
                split_config=example_gen_pb2.SplitConfig(splits=[
                    example_gen_pb2.SplitConfig.Split(
                        name="train", hash_buckets=config.TRAIN_BUCKETS),
                    example_gen_pb2.SplitConfig.Split(
                        name="eval", hash_buckets=config.EVAL_BUCKETS),
                ])))

    if os.path.dirname(os.path.abspath(eval_data_path)) != folder:
        raise ValueError(
            f"train data {data_path} and eval data {eval_data_path} must sit "
            "in the same folder (CsvExampleGen reads one input folder)")
    return CsvExampleGen(
        input_base=folder,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(
                name="train", pattern=os.path.basename(data_path)),
            example_gen_pb2.Input.Split(
                name="eval", pattern=os.path.basename(eval_data_path)),
        ]))
