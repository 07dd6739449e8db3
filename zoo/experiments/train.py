"""`lqz Train<Model>`: train a zoo model on a zoo dataset, resumably, on any strategy."""

import hashlib
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from lab_bnn import BinarizerSchedule
from lab_bnn.errors import UserError

import numpy as np
import tensorflow as tf
from zookeeper import ComponentField, Field

from zoo.datasets import FashionMnist, ZooDataset, dataset_names
from zoo.experiments.checkpoints import LogOptimizerIterations, SaveEachEpoch, TrainingState
from zoo.experiments.fingerprint import write_fingerprint
from zoo.experiments.model_summary import write_model_summary
from zoo.experiments.run_folder import new_run_dir, trim_metrics, write_json_atomic
from zoo.experiments.strategies import (
    check_batch_size,
    expected_replicas,
    is_chief,
    make_strategy,
)
from zoo.models import get_model
from zoo.models.factory import check_input_shape
from zoo.preprocessing import batches

FIELD_HELP = {
    "dataset": "a zoo dataset component (listed below)",
    "lab_blocks": "one True/False per stage, LAB where True; None = the model's default",
    "input_shape": "height,width,channels the model is built for; None = the dataset's default",
    "epochs": "epochs to train (LAB paper: 100)",
    "batch_size": "global batch, split across replicas (LAB paper: 256)",
    "learning_rate": "Adam's initial learning rate (LAB paper: 2.5e-3)",
    "final_learning_rate": "reached by linear decay at the last step (LAB paper: 1e-6)",
    "output_dir": "runs go to output_dir/experiment_name",
    "experiment_name": "<model>-<dataset> by default; a taken name gets -2, -3, ... unless resuming",
    "use_progress_bar": "a per-batch progress bar instead of one line per epoch",
    "resume": "continue output_dir/experiment_name from its last complete checkpoint",
    "seed": "seed of weights, shuffling and augmentation",
    "strategy": "default | mirrored | multi_worker (cluster from TF_CONFIG)",
    "cache": "keep decoded training images in memory after the first epoch",
    "binarizer": "how every binary block binarizes: a recipe of lab_bnn.recipes, boolnet_k4 or float",
    "temperature_every_n_steps": "N of BoolNet's weight temperature schedule, "
    "T <- 0.965*T every N steps; None = BoolNet's ImageNet "
    "rate (N = 1000 of 5005 steps per epoch) scaled to this "
    "run: round(1000 * steps_per_epoch / 5005), at least 1",
}

# Settings that must match for `resume=True` to continue a run.
RESUME_MUST_MATCH = ("model", "dataset", "input_shape", "lab_blocks", "batch_size")


class TrainZooModel:
    """Train the zoo model `model_name` (set by each task) with Adam and a linear
    learning-rate decay, the LAB paper's recipe (ALGORITHMS.md), writing to
    output_dir/experiment_name/: config.json, metrics.csv, tensorboard/, checkpoints/
    (weights, optimizer state and epoch, every epoch) and model.h5."""

    model_name = "LabBNN"

    dataset: ZooDataset = ComponentField(FashionMnist)
    lab_blocks: Optional[Sequence[bool]] = Field(None)
    input_shape: Optional[Sequence[int]] = Field(None)
    epochs: int = Field(100)
    batch_size: int = Field(256)
    learning_rate: float = Field(2.5e-3)
    final_learning_rate: float = Field(1e-6)
    output_dir: str = Field("runs")
    experiment_name: str = Field(lambda self: f"{self.model_name}-{type(self.dataset).__name__}")
    use_progress_bar: bool = Field(False)
    resume: bool = Field(False)
    seed: int = Field(0)
    strategy: str = Field("default")
    cache: bool = Field(False)

    @classmethod
    def help_text(cls) -> str:
        """`lqz <Task> --help`: every field with its default and meaning."""
        lines = [cls.__doc__.strip().splitlines()[0], "", "\b", "Fields (key=value):"]
        for name, field in cls.__component_fields__.items():
            default = "computed" if callable(field._default) else repr(field._default)
            if name == "dataset":
                default = "FashionMnist"
            lines.append(f"  {name} = {default}: {FIELD_HELP[name]}")
        lines += [
            "",
            "\b",
            f"Datasets: {', '.join(dataset_names())} (set their fields as "
            "dataset.<field>=value, e.g. dataset.data_dir=DIR).",
        ]
        return "\n".join(lines)

    def __pre_configure__(self, conf):
        fields = self.__component_fields__
        for key, value in conf.items():
            name = key.split(".")[0]
            if name not in fields:
                raise UserError(
                    f"unknown field {key!r} for {type(self).__name__}; its fields: "
                    f"{', '.join(sorted(fields))}"
                )
            if key == "dataset" and isinstance(value, str) and value not in dataset_names():
                raise UserError(f"unknown dataset {value!r}; available: {', '.join(dataset_names())}")
        return conf

    # -- pieces -------------------------------------------------------------------

    def model_input_shape(self):
        """Raises UserError for a shape the model cannot take, before it is built."""
        shape = self.input_shape or self.dataset.default_input_shape
        return check_input_shape(self.model_name, shape, get_model(self.model_name).min_input_size)

    def model_options(self) -> dict:
        """Extra builder arguments of this task's model (fields of a subclass); they
        are saved in config.json and must match on resume."""
        return {}

    def build_model(self) -> tf.keras.Model:
        return get_model(self.model_name).build(
            input_shape=self.model_input_shape(),
            num_classes=self.dataset.num_classes,
            lab_blocks=None if self.lab_blocks is None else tuple(self.lab_blocks),
            **self.model_options(),
        )

    def learning_rate_schedule(self, steps_per_epoch: int):
        return tf.keras.optimizers.schedules.PolynomialDecay(
            self.learning_rate,
            max(self.epochs * steps_per_epoch, 1),
            end_learning_rate=self.final_learning_rate,
            power=1.0,
        )

    def resolved_config(self) -> dict:
        dataset = self.dataset
        return {
            "task": type(self).__name__,
            "model": self.model_name,
            "dataset": {
                "name": type(dataset).__name__,
                **{f: getattr(dataset, f) for f in dataset.__component_fields__},
            },
            "input_shape": list(self.model_input_shape()),
            "lab_blocks": None if self.lab_blocks is None else list(self.lab_blocks),
            **self.model_options(),
            **{
                f: getattr(self, f)
                for f in (
                    "epochs",
                    "batch_size",
                    "learning_rate",
                    "final_learning_rate",
                    "output_dir",
                    "experiment_name",
                    "seed",
                    "strategy",
                    "cache",
                )
            },
        }

    def resume_dir(self) -> Path:
        """The run to continue (resume=True); all workers read it, only the chief writes.

        Raises:
            UserError: if it has no checkpoint.
        """
        folder = Path(self.output_dir).expanduser() / self.experiment_name
        if not (folder / "checkpoints" / "checkpoint").exists():
            raise UserError(f"resume=True but {folder} has no checkpoint to resume from")
        return folder

    def check_resumable(self, folder: Path, config: dict) -> None:
        """Raises UserError if the settings that shape the run differ from the saved ones."""
        saved = json.loads((folder / "config.json").read_text())
        changed = [
            k
            for k in (*RESUME_MUST_MATCH, *self.model_options())
            if saved.get(k) != json.loads(json.dumps(config[k]))
        ]
        if changed:
            raise UserError(
                f"resume=True but {', '.join(f'{k}={config[k]!r}' for k in changed)} differ "
                f"from the run in {folder} ({', '.join(f'{k}={saved.get(k)!r}' for k in changed)})"
            )

    def extra_callbacks(self, steps_per_epoch: int) -> list:
        """Callbacks a task adds for its model's own training schedule (BoolNet's
        temperature); none by default."""
        return []

    def compiled_model(self, steps_per_epoch: int) -> tf.keras.Model:
        model = self.build_model()
        model.compile(
            optimizer=tf.keras.optimizers.Adam(self.learning_rate_schedule(steps_per_epoch)),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=not ends_in_softmax(model)),
            metrics=["accuracy"],
        )
        return model

    # -- the run --------------------------------------------------------------------

    def run(self):
        """Check everything a user can get wrong before writing anything, then train."""
        check_batch_size(self.batch_size, expected_replicas(self.strategy))
        strategy = make_strategy(self.strategy)  # before other ops: multi-worker needs that
        check_batch_size(self.batch_size, strategy.num_replicas_in_sync)
        if self.epochs <= 0:
            raise UserError(f"epochs must be a positive integer; received {self.epochs}")
        tf.keras.utils.set_random_seed(self.seed)

        train_data, train_count = self.dataset.split("train")
        validation_data, validation_count = self.dataset.split("validation")
        steps_per_epoch = train_count // self.batch_size
        if steps_per_epoch == 0:
            raise UserError(
                f"batch_size={self.batch_size} exceeds the {train_count} training "
                f"examples of {type(self.dataset).__name__}"
            )
        shape, augment = self.model_input_shape(), self.dataset.augment
        train_batches = batches(
            train_data, shape, self.batch_size, True, augment, cache=self.cache, seed=self.seed
        ).repeat()
        validation_batches = batches(validation_data, shape, self.batch_size, False, augment)

        config = self.resolved_config()
        resumed_run = self.resume_dir() if self.resume else None
        if resumed_run:
            self.check_resumable(resumed_run, config)
        with strategy.scope():
            model = self.compiled_model(steps_per_epoch)

        chief = is_chief(self.strategy)
        if not chief:
            folder = Path(tempfile.mkdtemp(prefix="lqz-worker-"))
        else:
            folder = resumed_run or new_run_dir(Path(self.output_dir).expanduser(), self.experiment_name)
        try:
            with strategy.scope():
                state = TrainingState(model, folder / "checkpoints")
                if resumed_run:
                    path = state.restore_latest(resumed_run / "checkpoints")
                    print(
                        f"resumed from {path}: {int(state.epoch.numpy())} epochs done, "
                        f"optimizer iteration {int(model.optimizer.iterations.numpy())}"
                    )
                    trim_metrics(folder / "metrics.csv", int(state.epoch.numpy()))
                else:
                    write_json_atomic(folder / "config.json", config)
            print(write_model_summary(model, folder))
            print(
                f"training {self.model_name} on {type(self.dataset).__name__} "
                f"({steps_per_epoch} steps per epoch, {strategy.num_replicas_in_sync} "
                f"replica(s)); writing to {folder}"
            )
            self.fit(
                model,
                state,
                folder,
                train_batches,
                validation_batches,
                steps_per_epoch,
                math.ceil(validation_count / self.batch_size),
            )
        finally:
            if not chief:
                shutil.rmtree(folder, ignore_errors=True)

    def fit(self, model, state, folder, train_batches, validation_batches, steps_per_epoch, validation_steps):
        model.fit(
            train_batches,
            epochs=self.epochs,
            initial_epoch=int(state.epoch.numpy()),
            steps_per_epoch=steps_per_epoch,
            validation_data=validation_batches,
            validation_steps=validation_steps,
            verbose=1 if self.use_progress_bar else 2,
            callbacks=[
                LogOptimizerIterations(),
                tf.keras.callbacks.CSVLogger(str(folder / "metrics.csv"), append=True),
                tf.keras.callbacks.TensorBoard(
                    str(folder / "tensorboard"), write_graph=False, profile_batch=0
                ),
                SaveEachEpoch(state),
                BinarizerSchedule(epochs=self.epochs),  # per-epoch: ReCU's τ, FDA's terms
                *self.extra_callbacks(steps_per_epoch),
            ],
        )
        final, partial = folder / "model.h5", folder / ".model.h5.partial"
        model.save(str(partial), save_format="h5")
        partial.replace(final)  # a kill while saving never leaves half a model.h5
        write_fingerprint(model, validation_batches, folder)
        print(f"final model: {final}")
        print(f"trainable weights sha256: {weights_fingerprint(model)}")


def ends_in_softmax(model: tf.keras.Model) -> bool:
    """larq-zoo's models end in a softmax; others (SmallBNN) give logits."""
    return getattr(model.layers[-1], "activation", None) is tf.keras.activations.softmax


def weights_fingerprint(model: tf.keras.Model) -> str:
    """A hash of the trainable weights' bytes, to compare replicas or runs."""
    digest = hashlib.sha256()
    for weight in model.trainable_weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()
