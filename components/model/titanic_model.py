"""Model code of the Titanic pipeline: the Tuner calls `tuner_fn`, the Trainer
calls `run_fn`.

Both read the training split once into memory, hold out a fixed quarter of it
(chosen by a hash of each serialized example) for validation, and encode it
with `features.FeatureEncoder`. The eval split is left to the Evaluator, so
the figures it reports come from examples that neither the search nor early
stopping has seen.

Only model code belongs in this folder: TFX packages every .py file here
into the module wheel, and the wheel's hash is part of the Tuner's and
Trainer's cache key.
"""

import gc
import hashlib
import logging
import os
from typing import Any, Dict, List, NamedTuple, Tuple

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
from sklearn.metrics import roc_auc_score
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from components.model import features

logger = logging.getLogger(__name__)

OBJECTIVE = "val_auc"
BATCH_SIZE = 64
VALIDATION_BUCKETS = 4  # one bucket in four is held out for validation

# Keys the pipeline passes in custom_config (pipeline.config.TuningBudget).
BUDGET_KEYS = (
    "max_epochs", "factor", "hyperband_iterations", "max_trials", "patience",
    "train_epochs", "seed",
)


class Dataset(NamedTuple):
    """Encoded inputs and labels held in memory."""

    inputs: np.ndarray
    labels: np.ndarray

    def batches(self, batch_size: int, seed: int = 0,
                shuffle: bool = False) -> tf.data.Dataset:
        """A cached tf.data pipeline over the rows; reshuffled each epoch
        when `shuffle`. Building it once and reusing it across trials saves
        Keras from wrapping the arrays anew on every fit."""
        data = tf.data.Dataset.from_tensor_slices(
            (self.inputs, self.labels)).cache()
        if shuffle:
            data = data.shuffle(len(self.labels), seed=seed,
                                reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _config(fn_args: FnArgs) -> Dict[str, Any]:
    config = fn_args.custom_config or {}
    missing = [key for key in BUDGET_KEYS if key not in config]
    if missing:
        raise ValueError(f"custom_config lacks {', '.join(missing)}")
    return config


def _read_serialized(file_patterns: List[str]) -> np.ndarray:
    """Reads every serialized tf.Example of a split, in a stable order."""
    files = sorted(
        name for pattern in file_patterns for name in tf.io.gfile.glob(pattern)
    )
    if not files:
        raise FileNotFoundError(f"no examples found at {file_patterns}")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return np.array(list(records.as_numpy_iterator()), dtype=object)


def _is_validation(record: bytes) -> bool:
    """Holds out one row in VALIDATION_BUCKETS by a hash of its content.

    The example is re-serialized deterministically first: the order of a
    proto map on the wire is not fixed, and the same row must land on the
    same side in every process.
    """
    canonical = tf.train.Example.FromString(record).SerializeToString(
        deterministic=True)
    digest = hashlib.sha256(canonical).digest()
    return int.from_bytes(digest[:8], "little") % VALIDATION_BUCKETS == 0


def load_training_data(
    file_patterns: List[str],
) -> Tuple[Dataset, Dataset, features.FeatureEncoder]:
    """Reads the train split, holds out validation rows, encodes both.

    Returns:
      (fit data, validation data, encoder fitted on the fit rows).
    """
    serialized = _read_serialized(file_patterns)
    held_out = np.array([_is_validation(r) for r in serialized])
    columns = features.parse_examples(
        tf.constant(list(serialized), tf.string), with_label=True)
    columns = {name: value.numpy() for name, value in columns.items()}
    if np.any(columns[features.LABEL] < 0):
        raise ValueError(f"some training examples have no '{features.LABEL}'")

    def subset(mask):
        return {name: value[mask] for name, value in columns.items()}

    fit_columns, validation_columns = subset(~held_out), subset(held_out)
    encoder = features.FeatureEncoder.fit(fit_columns)

    def encode(part):
        inputs = encoder(part).numpy()
        labels = part[features.LABEL].astype(np.float32)
        return Dataset(inputs, labels)

    logger.info(
        "training data: %d rows to fit, %d held out for validation",
        (~held_out).sum(), held_out.sum())
    return encode(fit_columns), encode(validation_columns), encoder


def _declare_hyperparameters(hp: keras_tuner.HyperParameters):
    """The search space: width and activation of the hidden
    layer, and the Adam learning rate."""
    units = hp.Int("units", min_value=16, max_value=32, step=8)
    activation = hp.Choice("activation", ["relu", "tanh"])
    learning_rate = hp.Float(
        "learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    return units, activation, learning_rate


def build_model(
    hp: keras_tuner.HyperParameters, input_width: int
) -> keras.Model:
    """Builds and compiles a fresh model for the given hyperparameters."""
    units, activation, learning_rate = _declare_hyperparameters(hp)

    inputs = keras.Input(shape=(input_width,), name="encoded_features")
    hidden = keras.layers.Dense(units, activation=activation)(inputs)
    output = keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model(inputs, output)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=[
            keras.metrics.AUC(name="auc"),
            keras.metrics.BinaryAccuracy(name="binary_accuracy"),
        ],
        # Tracing an XLA program per trial costs more than it saves on a
        # network this small.
        jit_compile=False,
    )
    return model


class ReusingHyperModel(keras_tuner.HyperModel):
    """Hands Hyperband a freshly initialised model per trial, but reuses one
    compiled model per architecture (units x activation).

    Tracing Keras' train and test functions costs about a second per new
    model, several times the training itself on this table. A reused model
    gets new initial weights, a zeroed optimizer and the trial's learning
    rate, which is what a new model would start from.
    """

    def __init__(self, input_width: int):
        super().__init__(name="titanic")
        self._input_width = input_width
        self._models: Dict[Tuple[int, str], keras.Model] = {}

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        units, activation, learning_rate = _declare_hyperparameters(hp)
        model = self._models.get((units, activation))
        if model is None:
            model = build_model(hp, self._input_width)
            self._models[(units, activation)] = model
            return model

        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                layer.kernel.assign(
                    layer.kernel_initializer(layer.kernel.shape))
                layer.bias.assign(layer.bias_initializer(layer.bias.shape))
        for variable in model.optimizer.variables:
            variable.assign(np.zeros(variable.shape, variable.dtype))
        model.optimizer.learning_rate.assign(learning_rate)
        return model


class FrozenHeapHyperband(keras_tuner.Hyperband):
    """Hyperband whose per-trial garbage collections skip the long-lived heap.

    Keras Tuner runs a full `gc.collect()` twice per trial; in a process that
    has imported TensorFlow, TFX and Beam each one walks millions of objects
    (about 0.3 s). Freezing the heap that exists before the search makes
    those collections look only at what the trials themselves allocate.
    """

    def search(self, *fit_args, **fit_kwargs):
        gc.collect()
        gc.freeze()
        try:
            return super().search(*fit_args, **fit_kwargs)
        finally:
            gc.unfreeze()


class ValidationAUC(keras.callbacks.Callback):
    """Puts `val_auc`, the exact ROC AUC on the held-out rows, into each
    epoch's logs, where Keras Tuner, EarlyStopping and ModelCheckpoint read
    it.

    Scoring 200 rows with one direct model call is far cheaper than Keras'
    validation loop, which builds a new (distributed) iterator every epoch
    and, under MirroredStrategy, costs more than the training itself.
    """

    def __init__(self, validation: "Dataset"):
        super().__init__()
        self.validation = validation

    def on_epoch_end(self, epoch, logs=None):
        scores = np.asarray(self.model(self.validation.inputs, training=False))
        logs[OBJECTIVE] = float(
            roc_auc_score(self.validation.labels, scores.reshape(-1)))


def _callbacks(validation: "Dataset", patience: int) -> list:
    """Validation AUC first, so that the callbacks after it see it."""
    return [
        ValidationAUC(validation),
        keras.callbacks.EarlyStopping(
            monitor=OBJECTIVE, mode="max", patience=patience),
    ]


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """Builds the Hyperband tuner and the data it searches on."""
    config = _config(fn_args)
    keras.utils.set_random_seed(config["seed"])

    fit, validation, encoder = load_training_data(fn_args.train_files)

    tuner = FrozenHeapHyperband(
        hypermodel=ReusingHyperModel(encoder.width),
        objective=keras_tuner.Objective(OBJECTIVE, direction="max"),
        max_epochs=config["max_epochs"],
        factor=config["factor"],
        hyperband_iterations=config["hyperband_iterations"],
        seed=config["seed"],
        directory=fn_args.working_dir,
        project_name="titanic_hyperband",
        overwrite=True,
    )
    # The TFX Tuner asks the oracle for get_best_trials(max_trials), which
    # fails on Hyperband's default of None; an integer also caps the budget.
    tuner.oracle.max_trials = config["max_trials"] or 10_000

    return TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            "x": fit.batches(BATCH_SIZE, config["seed"], shuffle=True),
            "callbacks": _callbacks(validation, config["patience"]),
            "verbose": 0,
        },
    )


class ServingModule(tf.Module):
    """The exported model: serialized tf.Examples in, survival probability
    out, with parsing and encoding inside the graph."""

    def __init__(self, model: keras.Model, encoder: features.FeatureEncoder):
        super().__init__(name="titanic_serving")
        self.model = model
        self.encoder = encoder

    @tf.function(
        input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        columns = features.parse_examples(examples)
        probability = self.model(self.encoder(columns), training=False)
        return {features.SERVING_OUTPUT: probability}


def export_serving_model(
    model: keras.Model, encoder: features.FeatureEncoder, path: str
) -> None:
    """Writes a SavedModel whose serving_default signature scores examples."""
    module = ServingModule(model, encoder)
    tf.saved_model.save(
        module, path,
        signatures={"serving_default": module.serve.get_concrete_function()})


def _strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over every visible GPU; the CPU when there is none."""
    gpus = tf.config.list_logical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy(
        devices=[d.name for d in gpus] or None)
    logger.info(
        "training with %d replica(s) on %s",
        strategy.num_replicas_in_sync,
        ", ".join(strategy.extended.worker_devices))
    return strategy


def run_fn(fn_args: FnArgs) -> None:
    """Trains with the best hyperparameters and exports the serving model."""
    config = _config(fn_args)
    keras.utils.set_random_seed(config["seed"])

    fit, validation, encoder = load_training_data(fn_args.train_files)
    hp = keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)
    logger.info("best hyperparameters: %s", hp.values)

    strategy = _strategy()
    with strategy.scope():
        model = build_model(hp, encoder.width)

    # Keep the weights of the best validation epoch, not the last one.
    checkpoint = os.path.join(fn_args.model_run_dir, "best.weights.h5")
    callbacks = _callbacks(validation, config["patience"]) + [
        keras.callbacks.ModelCheckpoint(
            checkpoint, monitor=OBJECTIVE, mode="max",
            save_best_only=True, save_weights_only=True),
    ]
    batch_size = BATCH_SIZE * strategy.num_replicas_in_sync
    history = model.fit(
        fit.batches(batch_size, config["seed"], shuffle=True),
        epochs=config["train_epochs"],
        callbacks=callbacks,
        verbose=0,
    )
    model.load_weights(checkpoint)
    best_epoch = int(np.argmax(history.history[OBJECTIVE]))
    logger.info(
        "restored epoch %d of %d: %s %.4f", best_epoch + 1,
        len(history.history[OBJECTIVE]), OBJECTIVE,
        history.history[OBJECTIVE][best_epoch])

    export_serving_model(model, encoder, fn_args.serving_model_dir)
    logger.info("serving model written to %s", fn_args.serving_model_dir)
