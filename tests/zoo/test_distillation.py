"""Knowledge distillation against NumPy: the loss (ReActNet's DistributionLoss plus the
label cross-entropy), one Distiller step (plain SGD: w − lr·∂loss/∂w, teacher untouched,
its BN in inference mode), the teacher's input resized and its channels tiled or
averaged, and the teacher-file errors."""

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

from zoo.training.distillation import DistillationLoss, Distiller, load_teacher, logits_model

CLASSES = 3
BN_EPSILON = 1e-3  # Keras' BatchNormalization default


def np_log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_softmax(logits):
    return np.exp(np_log_softmax(logits))


def np_terms(labels, logits, teacher_probabilities):
    """Per-example (−log softmax(s)[y], −Σ p·log softmax(s))."""
    log_p = np_log_softmax(logits)
    return -log_p[np.arange(len(labels)), labels], -(teacher_probabilities * log_p).sum(axis=-1)


def np_bilinear_resize(images, height, width):
    """tf.image.resize(method="bilinear") as TF 2 defines it: half-pixel centres, edges clamped."""

    def axis_weights(size_in, size_out):
        position = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
        lower = np.floor(position).astype(int)
        return lower, np.minimum(lower + 1, size_in - 1), position - lower

    top, bottom, dy = axis_weights(images.shape[1], height)
    left, right, dx = axis_weights(images.shape[2], width)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    rows = images[:, top] * (1 - dy) + images[:, bottom] * dy
    return rows[:, :, left] * (1 - dx) + rows[:, :, right] * dx


def dense_model(input_shape, softmax, batch_norm=False, regularizer=None, name=None):
    """Flatten → [BN → Dropout] → Dense(CLASSES) → [softmax]: small enough to run in NumPy."""
    inputs = tf.keras.Input(input_shape)
    x = tf.keras.layers.Flatten()(inputs)
    if batch_norm:
        x = tf.keras.layers.BatchNormalization()(x)
        x = tf.keras.layers.Dropout(0.5)(x)  # a training-mode call would drop, frozen or not
    x = tf.keras.layers.Dense(CLASSES, kernel_regularizer=regularizer)(x)
    if softmax:
        x = tf.keras.layers.Activation("softmax")(x)
    return tf.keras.Model(inputs, x, name=name)


def np_dense_model(model, images):
    """dense_model's forward pass in inference mode (BN with its moving statistics, no dropout)."""
    x = images.reshape(len(images), -1)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            gamma, beta, mean, variance = (w.numpy() for w in layer.weights)
            x = (x - mean) / np.sqrt(variance + BN_EPSILON) * gamma + beta
        elif isinstance(layer, tf.keras.layers.Dense):
            kernel, bias = (w.numpy() for w in layer.weights)
            x = x @ kernel + bias
    return np_softmax(x) if isinstance(model.layers[-1], tf.keras.layers.Activation) else x


@pytest.mark.parametrize("label_weight", [0.0, 0.5, 1.0])
def test_distillation_loss_matches_numpy(label_weight, rng):
    logits = rng.randn(7, 5).astype(np.float32) * 3
    teacher = rng.dirichlet(np.ones(5), size=7).astype(np.float32)
    labels = rng.randint(0, 5, size=7)
    label, distillation = np_terms(labels, logits, teacher)
    expected = np.mean(label_weight * label + 0.7 * distillation)
    loss = DistillationLoss(label_weight=label_weight, distillation_weight=0.7)
    y_pred = np.concatenate([logits, teacher], axis=-1)
    np.testing.assert_allclose(loss(labels, y_pred).numpy(), expected, rtol=1e-6)
    one_hot = np.eye(5, dtype=np.float32)[labels]
    np.testing.assert_allclose(loss(one_hot, y_pred).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("weights", [(-1.0, 1.0), (1.0, "high"), (0.0, 0.0)])
def test_distillation_loss_refuses_weights(weights):
    with pytest.raises(UserError, match="label_weight|distillation_weight"):
        DistillationLoss(*weights)


def test_logits_model_shares_the_layers_before_the_softmax(rng):
    student = dense_model((4, 4, 1), softmax=True)
    logits = logits_model(student)
    assert all(a is b for a, b in zip(logits.weights, student.weights))
    x = rng.randn(5, 4, 4, 1).astype(np.float32)
    np.testing.assert_allclose(tf.nn.softmax(logits(x)).numpy(), student(x).numpy(), atol=1e-6)
    np.testing.assert_allclose(logits(x).numpy(), np_dense_model(logits, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("label_weight", [0.0, 0.5])
def test_one_step_is_sgd_on_the_loss_and_leaves_the_teacher_alone(label_weight, rng):
    l2, learning_rate = 0.01, 0.3
    student = dense_model((4, 4, 1), softmax=True, regularizer=tf.keras.regularizers.L2(l2))
    teacher = dense_model((4, 4, 1), softmax=True, batch_norm=True)
    for weight in teacher.weights:  # BN statistics far from 0 and 1: training mode would differ
        weight.assign(rng.uniform(0.5, 2.0, weight.shape).astype(np.float32))
    x = rng.randn(8, 4, 4, 1).astype(np.float32)
    labels = rng.randint(0, CLASSES, size=8)
    kernel, bias = (w.numpy() for w in student.weights)
    teacher_before = [w.numpy() for w in teacher.weights]

    # Oracle: the loss written out, differentiated by its own tape, one SGD step.
    teacher_probabilities = np_dense_model(teacher, x)
    w, b = tf.Variable(kernel), tf.Variable(bias)
    with tf.GradientTape() as tape:
        s = tf.constant(x.reshape(8, -1)) @ w + b
        log_p = tf.nn.log_softmax(s)
        label = -tf.gather(log_p, labels, batch_dims=1)
        distillation = -tf.reduce_sum(teacher_probabilities * log_p, axis=-1)
        oracle_loss = tf.reduce_mean(label_weight * label + 1.0 * distillation) + l2 * tf.reduce_sum(w * w)
    grad_w, grad_b = tape.gradient(oracle_loss, [w, b])
    np_label, np_distillation = np_terms(labels, x.reshape(8, -1) @ kernel + bias, teacher_probabilities)

    distiller = Distiller(student, teacher, label_weight=label_weight, distillation_weight=1.0)
    cross_entropy = tf.keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")
    distiller.compile(tf.keras.optimizers.SGD(learning_rate), metrics=["accuracy", cross_entropy])
    logs = distiller.fit(x, labels, batch_size=8, epochs=1, shuffle=False, verbose=0).history

    np.testing.assert_allclose(student.weights[0].numpy(), kernel - learning_rate * grad_w.numpy(), atol=1e-6)
    np.testing.assert_allclose(student.weights[1].numpy(), bias - learning_rate * grad_b.numpy(), atol=1e-6)
    for weight, before in zip(teacher.weights, teacher_before):
        np.testing.assert_array_equal(weight.numpy(), before)
    np.testing.assert_allclose(logs["loss"][0], oracle_loss.numpy(), rtol=1e-5)
    np.testing.assert_allclose(logs["label_loss"][0], np_label.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["distillation_loss"][0], np_distillation.mean(), rtol=1e-5)
    probabilities = np_softmax(x.reshape(8, -1) @ kernel + bias)
    np.testing.assert_allclose(logs["accuracy"][0], np.mean(probabilities.argmax(-1) == labels))
    np.testing.assert_allclose(logs["cross_entropy"][0], np_label.mean(), rtol=1e-5)  # on probabilities
    assert distiller.student is student

    evaluated = distiller.evaluate(x, labels, batch_size=8, verbose=0, return_dict=True)
    after = x.reshape(8, -1) @ student.weights[0].numpy() + student.weights[1].numpy()
    np_label, np_distillation = np_terms(labels, after, teacher_probabilities)
    np.testing.assert_allclose(evaluated["distillation_loss"], np_distillation.mean(), rtol=1e-5)
    np.testing.assert_allclose(evaluated["label_loss"], np_label.mean(), rtol=1e-5)


@pytest.mark.parametrize(
    "student_shape, teacher_shape",
    [((4, 4, 1), (6, 6, 3)), ((6, 5, 3), (4, 4, 1)), ((4, 4, 3), (4, 4, 3))],
)
def test_the_teacher_sees_the_batch_resized_and_channel_converted(student_shape, teacher_shape, rng):
    student = dense_model(student_shape, softmax=False)
    teacher = dense_model(teacher_shape, softmax=False)  # logits: the distiller applies softmax
    x = rng.randn(3, *student_shape).astype(np.float32)
    expected = np_bilinear_resize(x, *teacher_shape[:2])
    if student_shape[-1] != teacher_shape[-1]:
        expected = (
            np.tile(expected, (1, 1, 1, 3)) if teacher_shape[-1] == 3 else expected.mean(-1, keepdims=True)
        )
    probabilities = Distiller(student, teacher).teacher_probabilities(tf.constant(x))
    np.testing.assert_allclose(
        probabilities.numpy(), np_softmax(np_dense_model(teacher, expected)), rtol=1e-5
    )


def save_teacher(tmp_path, input_shape, classes):
    inputs = tf.keras.Input(input_shape)
    outputs = tf.keras.layers.Dense(classes)(tf.keras.layers.Flatten()(inputs))
    (tmp_path / "run").mkdir()
    tf.keras.Model(inputs, outputs).save(str(tmp_path / "run" / "model.h5"), save_format="h5")
    return str(tmp_path / "run")


def test_load_teacher_freezes_it_inside_the_strategy(tmp_path):
    run = save_teacher(tmp_path, (6, 6, 3), CLASSES)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    teacher = load_teacher(run, CLASSES, (4, 4, 1), strategy=strategy)
    assert not teacher.trainable and not teacher.trainable_weights
    assert all(strategy.extended.variable_created_in_scope(w) for w in teacher.weights)


def test_a_teacher_of_another_class_count_is_refused_naming_both(tmp_path):
    run = save_teacher(tmp_path, (4, 4, 1), 4)
    with pytest.raises(UserError) as error:
        load_teacher(run, CLASSES, (4, 4, 1))
    message = str(error.value)
    assert "\n" not in message and f"teacher={run} predicts 4 classes" in message and "predicts 3" in message


@pytest.mark.parametrize("teacher_shape", [(4, 4, 2), (16,)])
def test_a_teacher_input_that_cannot_be_made_is_refused(teacher_shape, tmp_path):
    run = save_teacher(tmp_path, teacher_shape, CLASSES)
    with pytest.raises(UserError, match=f"^teacher={run} takes"):
        load_teacher(run, CLASSES, (4, 4, 3))


def test_a_teacher_with_two_outputs_is_refused(tmp_path):
    inputs = tf.keras.Input((4, 4, 1))
    features = tf.keras.layers.Flatten()(inputs)
    outputs = [tf.keras.layers.Dense(CLASSES)(features), tf.keras.layers.Dense(CLASSES)(features)]
    tf.keras.Model(inputs, outputs).save(str(tmp_path / "two.h5"), save_format="h5")
    with pytest.raises(UserError, match=r"has 1 inputs and 2 outputs"):
        load_teacher(str(tmp_path / "two.h5"), CLASSES, (4, 4, 1))
