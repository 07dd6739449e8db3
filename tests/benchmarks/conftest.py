"""Converted models shared by the benchmarks tests (converted once per worker)."""

import larq as lq
import pytest
import tensorflow as tf

from converter import convert
from zoo.models import SmallBNN


@pytest.fixture(scope="session")
def small_bnn_tflite() -> bytes:
    """SmallBNN at 28×28×1: CONV_2D, LceQuantize, LceBconv2d, ADD, LceBMaxPool2d, ..."""
    tf.keras.utils.set_random_seed(0)
    return convert(SmallBNN(input_shape=(28, 28, 1)))


@pytest.fixture(scope="session")
def grouped_bconv_tflite() -> bytes:
    """One grouped binary conv: LCE's default kernel path refuses to prepare it."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8, 8, 64))
    x = lq.layers.QuantConv2D(
        64,
        3,
        groups=2,
        padding="same",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )(inputs)
    return convert(tf.keras.Model(inputs, tf.keras.layers.GlobalAveragePooling2D()(x)))


@pytest.fixture
def engine_status_fresh():
    """`kernel_paths`' once-per-process engine check, forgotten before and after the
    test, so a test may make the engine unavailable (or a level unsupported) alone."""
    from benchmarks import kernel_paths

    kernel_paths._engine_status.cache_clear()
    yield
    kernel_paths._engine_status.cache_clear()


@pytest.fixture
def engine_unavailable(monkeypatch, engine_status_fresh):
    """The engine's loader fails as on a host without a C compiler."""
    from benchmarks.engine import library

    def no_engine():
        raise library.EngineUnavailable("engine unavailable: no C compiler found (tried cc)")

    monkeypatch.setattr(library, "load", no_engine)
    return "no C compiler found (tried cc)"


@pytest.fixture
def only_portable_engine(monkeypatch, engine_status_fresh):
    """The engine as on a CPU without AVX2 (LAB_BNN_ENGINE_LEVEL unset)."""
    from benchmarks.engine import library

    monkeypatch.setattr(library, "supported_levels", lambda: ("portable",))
    monkeypatch.delenv(library.LEVEL_ENV, raising=False)
