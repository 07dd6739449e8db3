"""Knowledge distillation from a frozen teacher (Hinton et al. 2015), in the form that
ReActNet (Liu et al. 2020, §4.2) and BoolNet train with: the student matches the teacher's
class distribution, `−Σ p_teacher · log softmax(student logits)`, optionally plus the
usual cross-entropy with the labels.

`load_teacher` reads a finished run's model, `Distiller` trains a student against it with
`fit`; only `distiller.student` is to be checkpointed and saved.
"""

from typing import Optional, Sequence, Tuple

from lab_bnn.errors import UserError

import tensorflow as tf

from zoo.training.model_file import load_model_file


def ends_in_softmax(model: tf.keras.Model) -> bool:
    """larq-zoo's models end in a softmax; others (SmallBNN) give logits."""
    return getattr(model.layers[-1], "activation", None) is tf.keras.activations.softmax


def logits_model(model: tf.keras.Model) -> tf.keras.Model:
    """`model` without its final softmax (sharing its layers), or `model` if it gives logits.

    Raises:
        ValueError: if the softmax is fused into a layer that computes more (a
            `Dense(activation="softmax")`), whose input is not the logits.
    """
    if not ends_in_softmax(model):
        return model
    last = model.layers[-1]
    if not isinstance(last, tf.keras.layers.Activation):
        raise ValueError(
            f"{model.name} ends in {type(last).__name__} with a softmax; its logits are not a tensor"
        )
    return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits")


def load_teacher(
    path: str,
    num_classes: int,
    student_input_shape: Sequence[Optional[int]],
    strategy: Optional[tf.distribute.Strategy] = None,
) -> tf.keras.Model:
    """The frozen teacher that `teacher=path` names.

    Args:
        path: a finished run folder (its model.h5) or an .h5 file.
        num_classes: the student's (the dataset's) class count.
        student_input_shape: the student's input (height, width, channels).
        strategy: loads the teacher inside `strategy.scope()`, so that every replica has it.

    Returns:
        The teacher with `trainable = False`. A different height and width is resized in
        `Distiller`'s step; one channel is tiled to three, three averaged to one.

    Raises:
        UserError: if the path names no readable model, the teacher predicts another
            number of classes, or its input cannot be made from the student's.

    Example:
        >>> teacher = load_teacher("runs/CompactBNN-float", 10, (32, 32, 3), strategy)
    """
    if strategy is None:
        teacher = load_model_file(path, "teacher")
    else:
        with strategy.scope():
            teacher = load_model_file(path, "teacher")
    teacher.trainable = False
    if len(teacher.inputs) != 1 or len(teacher.outputs) != 1:
        raise UserError(
            f"teacher={path} has {len(teacher.inputs)} inputs and {len(teacher.outputs)} outputs; "
            "a teacher takes one image batch and gives one class distribution"
        )
    predicted = teacher.output_shape[-1]
    if predicted != num_classes:
        raise UserError(
            f"teacher={path} predicts {predicted} classes; the student predicts {num_classes} "
            "(the dataset's classes); give a teacher trained on the same dataset"
        )
    check_teacher_input(teacher.input_shape[1:], tuple(student_input_shape), f"teacher={path}")
    return teacher


def check_teacher_input(teacher_shape: Tuple, student_shape: Tuple, described: str) -> None:
    """Raises UserError unless `adapt_input` can make the teacher's input from the student's."""
    if len(teacher_shape) != 3 or len(student_shape) != 3:
        raise UserError(
            f"{described} takes inputs of shape {teacher_shape} and the student {student_shape}; "
            "distillation needs images (height, width, channels) for both"
        )
    channels = (student_shape[-1], teacher_shape[-1])
    if channels[0] != channels[1] and channels not in ((1, 3), (3, 1)):
        raise UserError(
            f"{described} takes {channels[1]} input channels and the student {channels[0]}; "
            "only equal counts, 1 → 3 (tiled) and 3 → 1 (averaged) are converted"
        )


def adapt_input(images: tf.Tensor, teacher_shape: Tuple) -> tf.Tensor:
    """The student's batch as the teacher's input: bilinear resize to the teacher's
    height and width (when it fixes them), then 1 channel tiled to 3 or 3 averaged to 1."""
    height, width, channels = teacher_shape
    if height is not None and width is not None and tuple(images.shape[1:3]) != (height, width):
        images = tf.image.resize(images, (height, width), method="bilinear")
    if images.shape[-1] == 1 and channels == 3:
        images = tf.tile(images, [1, 1, 1, 3])
    elif images.shape[-1] == 3 and channels == 1:
        images = tf.reduce_mean(images, axis=-1, keepdims=True)
    return images


class DistillationLoss(tf.keras.losses.Loss):
    """`label_weight · CE(y, softmax(s)) + distillation_weight · (−Σ p · log_softmax(s))`
    per example, averaged over the batch (Keras' SUM_OVER_BATCH_SIZE).

    The second term is ReActNet's and BoolNet's `DistributionLoss`. `y_pred` is the
    student's logits `s` followed by the teacher's probabilities `p`, concatenated on the
    last axis; `y_true` holds class indices (or one-hot rows).

    Args:
        label_weight: weight of the cross-entropy with the labels, ≥ 0.
        distillation_weight: weight of the cross-entropy with the teacher, ≥ 0.

    Raises:
        UserError: for a negative or non-numeric weight, or both weights 0.

    Example:
        >>> loss = DistillationLoss(label_weight=0.0)  # ReActNet: the teacher alone
    """

    def __init__(
        self, label_weight: float = 1.0, distillation_weight: float = 1.0, name: str = "distillation"
    ):
        super().__init__(name=name)
        for field, value in (("label_weight", label_weight), ("distillation_weight", distillation_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise UserError(f"{field} must be a number ≥ 0; received {value!r}")
        if label_weight == 0 and distillation_weight == 0:
            raise UserError("label_weight and distillation_weight are both 0; nothing would be learned")
        self.label_weight = float(label_weight)
        self.distillation_weight = float(distillation_weight)

    def terms(self, y_true: tf.Tensor, logits: tf.Tensor, teacher_probabilities: tf.Tensor):
        """The two unweighted per-example terms: (label cross-entropy, distillation)."""
        y_true, logits = tf.convert_to_tensor(y_true), tf.cast(logits, tf.float32)
        log_probabilities = tf.nn.log_softmax(logits, axis=-1)
        if y_true.shape.rank == logits.shape.rank and y_true.shape[-1] == logits.shape[-1] != 1:
            label = -tf.reduce_sum(tf.cast(y_true, tf.float32) * log_probabilities, axis=-1)
        else:
            label = tf.keras.losses.sparse_categorical_crossentropy(y_true, logits, from_logits=True)
        teacher = tf.cast(teacher_probabilities, tf.float32)
        return label, -tf.reduce_sum(teacher * log_probabilities, axis=-1)

    def call(self, y_true, y_pred):
        logits, teacher_probabilities = tf.split(y_pred, 2, axis=-1)
        label, distillation = self.terms(y_true, logits, teacher_probabilities)
        return self.label_weight * label + self.distillation_weight * distillation

    def get_config(self):
        return {
            **super().get_config(),
            "label_weight": self.label_weight,
            "distillation_weight": self.distillation_weight,
        }


class Distiller(tf.keras.Model):
    """Trains `student` with `DistillationLoss` against a frozen `teacher`, through `fit`.

    Compile it like the student (`distiller.compile(optimizer, metrics=["accuracy"])`);
    the loss defaults to this distiller's `DistillationLoss`. Each step calls the
    teacher in inference mode (BN's moving statistics) without gradient, and updates only
    `student.trainable_variables`. The logs hold `loss` (weighted, with the student's
    regularization losses), `label_loss` and `distillation_loss` (the unweighted terms),
    and the compiled metrics on the student's probabilities.

    Checkpoint and save `distiller.student`, never the distiller: it holds the teacher.

    Args:
        student: the model trained.
        teacher: a frozen model (see `load_teacher`) predicting the same classes.
        label_weight, distillation_weight: see `DistillationLoss`.

    Example:
        >>> with strategy.scope():
        ...     distiller = Distiller(student, load_teacher(path, 10, (32, 32, 3), strategy))
        ...     distiller.compile(optimizer, metrics=["accuracy"])
        >>> distiller.fit(batches, epochs=2)  # then save distiller.student
    """

    def __init__(
        self,
        student: tf.keras.Model,
        teacher: tf.keras.Model,
        label_weight: float = 1.0,
        distillation_weight: float = 1.0,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "distiller"), **kwargs)
        check_teacher_input(teacher.input_shape[1:], student.input_shape[1:], f"teacher {teacher.name!r}")
        teacher.trainable = False
        self.student = student
        self.teacher = teacher
        self.student_logits = logits_model(student)
        self.teacher_ends_in_softmax = ends_in_softmax(teacher)
        self.distillation = DistillationLoss(label_weight, distillation_weight)
        self.label_loss_tracker = tf.keras.metrics.Mean(name="label_loss")
        self.distillation_loss_tracker = tf.keras.metrics.Mean(name="distillation_loss")

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        super().compile(optimizer=optimizer, loss=loss or self.distillation, **kwargs)

    @property
    def metrics(self):
        trackers = [self.label_loss_tracker, self.distillation_loss_tracker]
        return [m for m in super().metrics if all(m is not t for t in trackers)] + trackers

    def call(self, inputs, training=None):
        return self.student(inputs, training=training)

    def teacher_probabilities(self, images: tf.Tensor) -> tf.Tensor:
        """The teacher's class probabilities for the student's batch, a constant for the tape."""
        outputs = self.teacher(adapt_input(images, self.teacher.input_shape[1:]), training=False)
        outputs = tf.cast(outputs, tf.float32)
        return tf.stop_gradient(outputs if self.teacher_ends_in_softmax else tf.nn.softmax(outputs, axis=-1))

    def train_step(self, data):
        images, labels, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        teacher = self.teacher_probabilities(images)
        with tf.GradientTape() as tape:
            logits = tf.cast(self.student_logits(images, training=True), tf.float32)
            loss = self.compiled_loss(
                labels,
                tf.concat([logits, teacher], axis=-1),
                sample_weight,
                regularization_losses=self.student.losses,
            )
        self.optimizer.minimize(loss, self.student.trainable_variables, tape=tape)
        return self._update_metrics(labels, logits, teacher, sample_weight)

    def test_step(self, data):
        images, labels, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        teacher = self.teacher_probabilities(images)
        logits = tf.cast(self.student_logits(images, training=False), tf.float32)
        self.compiled_loss(
            labels,
            tf.concat([logits, teacher], axis=-1),
            sample_weight,
            regularization_losses=self.student.losses,
        )
        return self._update_metrics(labels, logits, teacher, sample_weight)

    def _update_metrics(self, labels, logits, teacher, sample_weight):
        label, distillation = self.distillation.terms(labels, logits, teacher)
        self.label_loss_tracker.update_state(label, sample_weight)
        self.distillation_loss_tracker.update_state(distillation, sample_weight)
        self.compiled_metrics.update_state(labels, tf.nn.softmax(logits, axis=-1), sample_weight)
        return {m.name: m.result() for m in self.metrics}
