"""`lqz Train<Model>`: train a zoo model on a zoo dataset, resumably, on any strategy.

The model and the optimizer are zookeeper components (`model.<field>=`,
`optimizer=RAdam optimizer.schedule=CosineDecay ...`); each task's defaults are its
model's published recipe (zoo.experiments.recipes). A teacher (`teacher=`) turns the
run into knowledge distillation; `stage=`/`initialize_from=` give two-stage training.
"""

import math
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from lab_bnn.errors import UserError

import tensorflow as tf
from zookeeper import ComponentField, Field
from zookeeper.core.component import base_getattr

from zoo.datasets import FashionMnist, ZooDataset, dataset_names
from zoo.experiments import run_config
from zoo.experiments.checkpoints import TrainingState
from zoo.experiments.fit import fit_and_save, student_of, weights_fingerprint  # noqa: F401  (re-exported)
from zoo.experiments.recipes import DEFAULT_RECIPE, Recipe
from zoo.experiments.run_folder import new_run_dir, trim_metrics, write_json_atomic
from zoo.experiments.strategies import check_batch_size, expected_replicas, is_chief, make_strategy
from zoo.models import factory as model_factory
from zoo.models.factory import check_input_shape
from zoo.preprocessing import batches
from zoo.task_help import help_text as fields_help_text
from zoo.training.distillation import Distiller, ends_in_softmax, load_teacher
from zoo.training.optimizers import Optimizer, describe
from zoo.training.stages import float_weights, initialize_from

FIELD_HELP = {
    "dataset": "a zoo dataset component (listed below)",
    "model": "this task's model; set its fields as model.<field>=value",
    "optimizer": "the optimizer component (the recipe's by default); its fields as optimizer.<field>=value",
    "input_shape": "height,width,channels the model is built for; None = the dataset's default",
    "epochs": "epochs to train (the recipe's)",
    "batch_size": "global batch, split across replicas (the recipe's)",
    "output_dir": "runs go to output_dir/experiment_name",
    "experiment_name": "<model>-<dataset> by default; a taken name gets -2, -3, ... unless resuming",
    "use_progress_bar": "a per-batch progress bar instead of one line per epoch",
    "resume": "continue output_dir/experiment_name from its last complete checkpoint",
    "seed": "seed of weights, shuffling and augmentation",
    "strategy": "default | mirrored | multi_worker (cluster from TF_CONFIG)",
    "cache": "keep decoded training images in memory after the first epoch",
    "teacher": "knowledge distillation from a trained model (a run folder, its model.h5, or an .h5): "
    "frozen, in inference mode; None = labels only",
    "label_weight": "weight of the label cross-entropy when teacher= is set (0: the distillation loss alone)",
    "distillation_weight": "weight of the cross-entropy of the student's log-softmax against the "
    "teacher's softmax (needs teacher=)",
    "stage": "0: the model as configured; 1: binary activations, real-valued weights (weight "
    "quantizers removed); 2: both binary, started from a stage-1 run with initialize_from=",
    "initialize_from": "a run folder or .h5 whose weights (layers matched by name) start a new run; "
    "None = fresh weights (a resumed run restores its own checkpoint)",
}
STAGES = (0, 1, 2)


class TrainZooModel:
    """Train the zoo model `model_name` (set by each generated task) with its paper's
    recipe, writing to output_dir/experiment_name/: config.json, metrics.csv,
    tensorboard/, checkpoints/ (weights, optimizer state and epoch, every epoch) and
    model.h5."""

    model_name = "LabBNN"
    recipe: Recipe = DEFAULT_RECIPE  # a class attribute, not a Field
    field_help = FIELD_HELP

    dataset: ZooDataset = ComponentField(FashionMnist)
    # A factory of this annotation; each generated task sets its own default.
    model: tf.keras.Model = ComponentField()
    optimizer: Optimizer = ComponentField(DEFAULT_RECIPE.optimizer)
    input_shape: Optional[Sequence[int]] = Field(None)
    epochs: int = Field(DEFAULT_RECIPE.epochs)
    batch_size: int = Field(DEFAULT_RECIPE.batch_size)
    output_dir: str = Field("runs")
    experiment_name: str = Field(lambda self: f"{self.model_name}-{type(self.dataset).__name__}")
    use_progress_bar: bool = Field(False)
    resume: bool = Field(False)
    seed: int = Field(0)
    strategy: str = Field("default")
    cache: bool = Field(False)
    teacher: Optional[str] = Field(None)
    label_weight: float = Field(DEFAULT_RECIPE.label_weight)
    distillation_weight: float = Field(1.0)
    stage: int = Field(0)
    initialize_from: Optional[str] = Field(None)

    @classmethod
    def help_text(cls) -> str:
        """`lqz <Task> --help`: every field, the model's and the optimizer's included,
        with its default and meaning, then the recipe's source."""
        shorthands = ", ".join(f"{short}= for {full}=" for short, full in run_config.SHORTHANDS.items())
        return "\n".join(
            [
                fields_help_text(cls, expand=("model", "optimizer"), hidden=model_factory.TASK_SET_FIELDS),
                "",
                f"Recipe (the defaults above): {cls.recipe.citation}.",
                "",
                f"Datasets: {', '.join(dataset_names())} (set their fields as "
                "dataset.<field>=value, e.g. dataset.data_dir=DIR).",
                "",
                f"Shorthands kept from older command lines: {shorthands}.",
            ]
        )

    def __pre_configure__(self, conf):
        conf = run_config.rewrite_shorthands(conf)
        run_config.refuse_task_set_keys(conf, type(self).__name__, self.model_name)
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

    def __post_configure__(self):
        if self.stage not in STAGES or isinstance(self.stage, bool):
            raise UserError(f"stage must be 0, 1 or 2; received {self.stage!r}")
        if self.teacher is None:
            configured = self.__component_configured_field_values__
            for name in ("label_weight", "distillation_weight"):
                if name in configured:
                    raise UserError(
                        f"{name}={configured[name]!r} weighs a distillation loss: it needs "
                        "teacher=<run folder or .h5>"
                    )

    # -- pieces -------------------------------------------------------------------

    def model_input_shape(self):
        """Raises UserError for a shape the model cannot take, before it is built."""
        shape = self.input_shape or self.dataset.default_input_shape
        factory = type(base_getattr(self, "model"))
        return check_input_shape(self.model_name, shape, factory.min_input_size)

    def build_model(self) -> tf.keras.Model:
        """A fresh model from the configured model Fields and the task's shape and
        classes; with stage=1, its weight quantizers removed.

        Raises:
            UserError: for a model field the model refuses (named with its value).
        """
        # Layer names as in a fresh process, so initialize_from matches a run made in one.
        tf.keras.backend.reset_uids()
        model = model_factory.build_model(
            type(base_getattr(self, "model")),
            **run_config.model_fields(self),
            input_shape=self.model_input_shape(),
            num_classes=self.dataset.num_classes,
            include_top=True,
        )
        return float_weights(model) if self.stage == 1 else model

    def initial_model(self, initialize: bool = True) -> tf.keras.Model:
        """build_model(), with initialize_from's weights copied in (unless `initialize`
        is False: a resumed run restores its checkpoint instead)."""
        model = self.build_model()
        if self.initialize_from is not None:
            if initialize:
                initialize_from(model, self.initialize_from)
                print(f"initialized from {self.initialize_from}")
            else:
                print(f"resuming: the checkpoint's weights, not initialize_from={self.initialize_from}")
        elif self.stage == 2:
            print("stage=2 without initialize_from: binary weights trained from fresh weights")
        return model

    def compiled_model(self, steps_per_epoch: int, model: Optional[tf.keras.Model] = None) -> tf.keras.Model:
        """What `fit` trains: the model (initial_model() unless given) compiled with the
        optimizer, or, with a teacher, a Distiller around it. Call it in the strategy's
        scope, so the optimizer and the teacher are replicated."""
        student = self.initial_model() if model is None else model
        optimizer = base_getattr(self, "optimizer").build(self.epochs * steps_per_epoch, steps_per_epoch)
        if self.teacher is None:
            student.compile(
                optimizer=optimizer,
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=not ends_in_softmax(student)),
                metrics=["accuracy"],
            )
            return student
        teacher = load_teacher(self.teacher, self.dataset.num_classes, tuple(student.input_shape[1:]))
        trainer = Distiller(student, teacher, self.label_weight, self.distillation_weight)
        trainer.compile(optimizer=optimizer, metrics=["accuracy"])
        return trainer

    def resolved_config(self) -> dict:
        dataset = self.dataset
        fields = run_config.model_fields(self)
        return {
            "task": type(self).__name__,
            "model": self.model_name,
            "model_fields": fields,
            "dataset": {
                "name": type(dataset).__name__,
                **{f: getattr(dataset, f) for f in dataset.__component_fields__},
            },
            "input_shape": list(self.model_input_shape()),
            # Top-level copies, as config.json had them before the model was a component.
            "lab_blocks": fields.get("lab_blocks"),
            **({"binarizer": fields["binarizer"]} if "binarizer" in fields else {}),
            "optimizer": describe(base_getattr(self, "optimizer")),
            **{
                f: getattr(self, f)
                for f in (
                    "epochs",
                    "batch_size",
                    "output_dir",
                    "experiment_name",
                    "seed",
                    "strategy",
                    "cache",
                    "teacher",
                    "label_weight",
                    "distillation_weight",
                    "stage",
                    "initialize_from",
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

    def extra_callbacks(self, steps_per_epoch: int) -> list:
        """Callbacks a task adds for its model's own training schedule (BoolNet's
        temperature); none by default."""
        return []

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
            run_config.check_resumable(resumed_run, config)
        with strategy.scope():  # the teacher too: its variables are replicated
            trainer = self.compiled_model(steps_per_epoch, self.initial_model(initialize=not resumed_run))
        model = student_of(trainer)

        chief = is_chief(self.strategy)
        if not chief:
            folder = Path(tempfile.mkdtemp(prefix="lqz-worker-"))
        else:
            folder = resumed_run or new_run_dir(Path(self.output_dir).expanduser(), self.experiment_name)
        try:
            with strategy.scope():
                # Only the student is checkpointed, with the trainer's optimizer: the
                # keys are those of a run without a teacher.
                state = TrainingState(model, folder / "checkpoints", optimizer=trainer.optimizer)
                if resumed_run:
                    path = state.restore_latest(resumed_run / "checkpoints")
                    print(
                        f"resumed from {path}: {int(state.epoch.numpy())} epochs done, "
                        f"optimizer iteration {int(trainer.optimizer.iterations.numpy())}"
                    )
                    trim_metrics(folder / "metrics.csv", int(state.epoch.numpy()))
                else:
                    write_json_atomic(folder / "config.json", config)
            print(
                f"training {self.model_name} on {type(self.dataset).__name__} "
                f"({steps_per_epoch} steps per epoch, {strategy.num_replicas_in_sync} "
                f"replica(s)); writing to {folder}"
            )
            fit_and_save(
                trainer,
                state,
                folder,
                train_batches,
                validation_batches,
                epochs=self.epochs,
                steps_per_epoch=steps_per_epoch,
                validation_steps=math.ceil(validation_count / self.batch_size),
                verbose=1 if self.use_progress_bar else 2,
                extra_callbacks=self.extra_callbacks(steps_per_epoch),
            )
        finally:
            if not chief:
                shutil.rmtree(folder, ignore_errors=True)
