"""BinarizerSchedule drives every scheduled binarizer inside a model."""

from lab_bnn import BinarizerSchedule
from lab_bnn.errors import UserError
from lab_bnn.layers import ReCUConv2D
from lab_bnn.recipes import RECIPES

import numpy as np
import pytest
import tensorflow as tf

import numpy_reference_bibench as ref


def test_schedule_reaches_binarizers_inside_layers(rng):
    inputs = tf.keras.Input((6, 6, 8))
    x = ReCUConv2D(8, 3, padding="same")(inputs)
    x = RECIPES["fda"].conv2d(8, 3, padding="same")(x)
    model = tf.keras.Model(inputs, tf.keras.layers.GlobalAveragePooling2D()(x))
    model.compile("adam", "mse")
    model.fit(
        rng.randn(8, 6, 6, 8), rng.randn(8, 8), epochs=3, verbose=0, callbacks=[BinarizerSchedule(epochs=4)]
    )
    recu_weight = model.layers[1].kernel_quantizer
    fda_sign, fda_weight = model.layers[2].input_quantizer, model.layers[2].kernel_quantizer
    last = 2  # the last epoch run; its schedule was set when it began
    np.testing.assert_allclose(recu_weight.current_tau.numpy(), ref.recu_tau(last, 4), rtol=1e-6)
    assert int(fda_sign.current_terms.numpy()) == ref.fda_terms(last, 4) == 13
    np.testing.assert_allclose(
        fda_weight.current_noise_weight.numpy(), ref.fda_noise_weight(last, 4), atol=1e-7
    )


@pytest.mark.parametrize("epochs", [0, -2, 2.5, "10"])
def test_bad_epochs_is_one_clear_error(epochs):
    with pytest.raises(UserError, match=rf"epochs must be a positive integer; received {epochs!r}"):
        BinarizerSchedule(epochs=epochs)
