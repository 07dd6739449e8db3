"""CompactBNN: a Bi-Real-style BNN for 28×28 images sized to train in minutes on a CPU,
with any paper's binarizer in its binary blocks (the Quickstart's and the
Leaderboard's network)."""

from typing import Dict, Optional, Sequence, Tuple

from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D, MultiSliceSign
from lab_bnn.recipes import RECIPES

import tensorflow as tf
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, check_input_shape, check_lab_blocks, check_num_classes

# (filters, max-pool after) of the four binary blocks, which run at 14² and 7².
STAGES: Tuple[Tuple[int, bool], ...] = ((64, False), (64, True), (128, False), (128, True))
# Three 2×2 "valid" max-pools (the stem's and two blocks') need 8 pixels to leave one.
MIN_INPUT_SIZE = 8
FLOAT = "float"
BOOLNET_K4 = "boolnet_k4"
BOOLNET_SLICES = 4
# Every choice of `binarizer`: the paper recipes of lab_bnn.recipes, BoolNet's
# multi-slice sign with k = 4 and the full-precision counterpart.
BINARIZER_CHOICES: Tuple[str, ...] = (*RECIPES, BOOLNET_K4, FLOAT)


def CompactBNN(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    binarizer: str = "bnn",
    lab_blocks: Optional[Sequence[bool]] = None,
    include_top: bool = True,
) -> tf.keras.Model:
    """A float 3×3 stem with max-pool to 14², four binary 3×3 blocks (BN, a real
    shortcut where widths match, max-pool after the 2nd and 4th), global pool and
    float dense logits. A quarter of SmallBNN's MACs: a Fashion-MNIST epoch takes
    about 1.5 minutes on 2 CPU cores.

    Arguments:
        input_shape: (height, width, channels), at least 8×8.
        num_classes: number of logits.
        binarizer: how every binary block binarizes, one of `BINARIZER_CHOICES`: a
            recipe of `lab_bnn.recipes` (its activation and weight binarizer, conv
            layer and activation, e.g. "bnn" for plain sign, "lab", "react_net"),
            "boolnet_k4" (BoolNet's multi-slice sign, k = 4, and grouped binary conv
            with per-channel scaled sign weights)
            or "float" (ReLU and a float conv in place of sign and binary conv).
        lab_blocks: one True/False per block (4); the LAB recipe replaces `binarizer`
            where True. None keeps `binarizer` everywhere.
        include_top: add the pooling and logits.

    Returns:
        A Keras model producing logits.

    Raises:
        UserError: for an unknown binarizer, an input under 8×8, a num_classes that is
            not a positive integer, or a lab_blocks without one bool per block.

    Example:
        >>> CompactBNN(binarizer="bnn", lab_blocks=(True, True, False, False))
    """
    check_binarizer(binarizer)
    flags = check_lab_blocks("CompactBNN", lab_blocks, len(STAGES)) or (False,) * len(STAGES)
    choices = ["lab" if flag else binarizer for flag in flags]
    shape = check_input_shape("CompactBNN", input_shape, MIN_INPUT_SIZE)
    num_classes = check_num_classes("CompactBNN", num_classes)

    inputs = tf.keras.Input(shape)
    x = tf.keras.layers.Conv2D(STAGES[0][0], 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    x = tf.keras.layers.MaxPool2D()(x)
    for (filters, pool), choice in zip(STAGES, choices):
        shortcut = x
        x = binary_conv(choice, filters)(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
        if shortcut.shape[-1] == filters:
            x = tf.keras.layers.add([x, shortcut])
        activation = RECIPES[choice].activation() if choice in RECIPES else None
        if activation is not None:  # ReActNet's RPReLU follows the shortcut
            x = activation(x)
        if pool:
            x = tf.keras.layers.MaxPool2D()(x)
    if include_top:
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        x = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, x, name=f"compact_bnn_{binarizer}")


def check_binarizer(binarizer) -> str:
    """`binarizer` itself if it is one of BINARIZER_CHOICES.

    Raises:
        UserError: naming the value received and every allowed choice.
    """
    if not isinstance(binarizer, str) or binarizer not in BINARIZER_CHOICES:
        raise UserError(
            f"unknown CompactBNN binarizer {binarizer!r}; allowed: {', '.join(BINARIZER_CHOICES)}"
        )
    return binarizer


@factory
class CompactBNNFactory(ZooModelFactory):
    """CompactBNN, the Quickstart's and Leaderboard's network: a float stem with
    max-pool, four binary 3×3 blocks of widths 64/64/128/128 with any paper's binarizer,
    global pool, float dense logits.

    A thin zookeeper shell over the keyword builder `CompactBNN`, which validates.
    """

    model_name = "CompactBNN"
    stages = len(STAGES)
    min_input_size = MIN_INPUT_SIZE
    input_shape: Sequence[int] = Field((28, 28, 1))
    num_classes: int = Field(10)
    binarizer: str = Field("bnn")
    field_help: Dict[str, str] = {
        "binarizer": "how every binary block binarizes (activations, weights, conv, "
        f"activation function): one of {', '.join(BINARIZER_CHOICES)}",
    }

    def check_fields(self) -> None:
        """ZooModelFactory's checks, then `binarizer` (at configure time, before any
        data is loaded; the builder checks it again).

        Raises:
            UserError: naming the binarizer and every allowed choice.
        """
        super().check_fields()
        check_binarizer(self.binarizer)

    def build(self) -> tf.keras.Model:
        return CompactBNN(
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            binarizer=self.binarizer,
            lab_blocks=self.lab_blocks,
            include_top=self.include_top,
        )


def binary_conv(choice: str, filters: int):
    """The 3×3 conv of one block, with its binarizer, as a callable on a tensor."""
    if choice == FLOAT:
        return lambda x: tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(
            tf.keras.layers.ReLU()(x)
        )
    if choice == BOOLNET_K4:
        # scaled_sign is BoolNet's progressive weight binarizer at its end point: a
        # budget of a few epochs leaves no room for the temperature schedule.
        return lambda x: MultiSliceBinaryConv2D(
            filters, 3, slices=BOOLNET_SLICES, padding_mode="one", kernel_quantizer="scaled_sign"
        )(MultiSliceSign(BOOLNET_SLICES)(x))
    # +1 padding keeps the padded input binary, so LCE's fast kernels compute it exactly.
    return RECIPES[choice].conv2d(filters, 3, padding="same", pad_values=1.0, use_bias=False)
