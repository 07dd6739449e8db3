"""What every lab-bnn binarizer shares: the registry, the base class, input checks."""

from typing import List, Sequence

from lab_bnn.errors import UserError
from lab_bnn.registry import Registry

import larq as lq
import tensorflow as tf

BINARIZERS = Registry("binarizer")
register_binarizer = BINARIZERS.register


class BinarizerBase(lq.quantizers._BaseQuantizer):
    """larq's quantizer base (`metrics=["flip_ratio"]`, `precision` for
    `lq.models.summary`) whose trained state every save format stores.

    larq's `_BaseQuantizer.non_trainable_weights` returns `[]`, added to keep the
    FlipRatio metric's variables out of a model's weights. It hides every
    non-trainable weight of the quantizer from the layer that holds it, so `.h5`,
    `get_weights`/`set_weights` and copies made through `weights` lose it (SavedModel
    and checkpoints track attributes and keep it); a frozen layer loses the trainable
    ones too. Keras already
    leaves metrics out of `weights`, so this base restores Keras' rule, and state that
    training changes is made with `add_state`.

    Example:
        >>> def build(self, input_shape):
        ...     self.current_tau = self.add_state("tau", self.tau)
        ...     super().build(input_shape)
    """

    def add_state(self, name: str, initial_value, dtype: tf.DType = tf.float32) -> tf.Variable:
        """A scalar non-trainable weight for a value training changes (a schedule's τ,
        a temperature); call it in `build`, always in the same order, since `.h5`
        restores weights by position.

        Returns:
            The variable; assign to it to change the state.
        """
        return self.add_weight(
            name,
            shape=(),
            dtype=dtype,
            trainable=False,
            initializer=tf.keras.initializers.Constant(initial_value),
        )

    @property
    def state_weights(self) -> List[tf.Variable]:
        """This quantizer's non-trainable weights (its `add_state` ones), in creation order."""
        return [w for w in self.weights if not w.trainable]

    @property
    def non_trainable_weights(self) -> List[tf.Variable]:
        # Skip larq's `return []` (see the class docstring): Keras' own rule.
        return tf.keras.layers.Layer.non_trainable_weights.fget(self)


def require_nhwc(binarizer: str, input_shape: Sequence) -> int:
    """Return the channel count of a 4-D NHWC shape.

    Raises:
        UserError: if the shape is not 4-D or its channel count is unknown.
    """
    shape = tf.TensorShape(input_shape)
    if shape.rank != 4 or shape[-1] is None:
        raise UserError(
            f"{binarizer} binarizes 4-D NHWC feature maps (batch, height, width, "
            f"channels) with a known channel count; received input shape {shape}"
        )
    return int(shape[-1])


def require_rank_at_least_2(binarizer: str, input_shape: Sequence, what: str) -> None:
    """Raises UserError unless the shape has a leading and a channel axis.

    `what` names the expected tensor, e.g. "a kernel (..., inputs, outputs)".
    """
    shape = tf.TensorShape(input_shape)
    if shape.rank is None or shape.rank < 2:
        raise UserError(f"{binarizer} binarizes {what} of rank 2 or more; received shape {shape}")


def require_positive_int(binarizer: str, argument: str, value, odd: bool = False) -> int:
    """Validate an integer size argument (a window or kernel size).

    Raises:
        UserError: naming the value received and what is allowed.
    """
    allowed = "a positive odd integer (1, 3, 5, ...)" if odd else "a positive integer"
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if not ok or (odd and value % 2 == 0):
        raise UserError(f"{binarizer} {argument} must be {allowed}; received {value!r}")
    return value
