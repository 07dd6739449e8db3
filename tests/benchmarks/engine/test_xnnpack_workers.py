"""Multi-thread engine interpreters keep XNNPACK's workers awake between ops; nothing else changes.

The oracle for "awake" is the kernel's CPU-time accounting: a pthreadpool worker that spins after
the model's last op burns CPU while the caller sleeps; one that was told to yield burns none.
"""

import ctypes
import time

import numpy as np
import pytest
import tensorflow as tf
from tflite_runtime import interpreter as tflite

from benchmarks.engine import library, xnnpack_workers
from benchmarks.engine.interpreter import EngineInterpreter
from converter import convert

# A spinning worker gets at least half a core over this window even beside another busy process
# (pytest-xdist's second worker on a 2-core host); a sleeping one gets none.
WINDOW_S = 0.015
AWAKE_CPU_S = 0.004
ASLEEP_CPU_S = 0.002


@pytest.fixture(scope="module")
def float_flatbuffer() -> bytes:
    """A model whose last op (FULLY_CONNECTED) runs on XNNPACK, so its workers decide what
    happens after each call."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((512,))
    flatbuffer = convert(tf.keras.Model(inputs, tf.keras.layers.Dense(256)(inputs)))
    tf.keras.backend.clear_session()
    return flatbuffer


def cpu_seconds_after_calls(call) -> float:
    """Process CPU time spent over WINDOW_S of sleep right after a few calls."""
    time.sleep(0.1)  # every pool of an earlier call has gone to sleep
    for _ in range(3):
        call()
    before = time.process_time()
    time.sleep(WINDOW_S)
    return time.process_time() - before


def test_two_thread_engine_workers_spin_after_a_call_and_plain_tflite_workers_sleep(float_flatbuffer):
    x = np.random.default_rng(0).standard_normal((1, 512)).astype(np.float32)
    engine = EngineInterpreter(float_flatbuffer, threads=2)
    assert engine.keeps_workers_awake
    plain = tflite.Interpreter(model_content=float_flatbuffer, num_threads=2)  # built outside the engine
    plain.allocate_tensors()

    def plain_call():
        plain.set_tensor(plain.get_input_details()[0]["index"], x)
        plain.invoke()

    awake = cpu_seconds_after_calls(lambda: engine.predict(x))
    asleep = cpu_seconds_after_calls(plain_call)
    assert awake >= AWAKE_CPU_S and asleep <= ASLEEP_CPU_S, (awake, asleep)
    expected = plain.get_tensor(plain.get_output_details()[0]["index"])
    assert engine.predict(x).tobytes() == expected.tobytes()  # same XNNPACK kernels, same bits


def test_one_thread_engine_has_no_workers_to_keep(float_flatbuffer):
    assert not EngineInterpreter(float_flatbuffer, threads=1).keeps_workers_awake


def test_hook_refuses_an_address_outside_every_library_and_a_library_without_the_slot():
    lib = xnnpack_workers.bind(library.load())
    heap = ctypes.create_string_buffer(64)
    assert lib.lbe_xnnpack_hook_install(ctypes.addressof(heap)) == -1
    # liblbe itself is a loaded library, but it calls no xnn_create_runtime_v4 through a PLT.
    assert lib.lbe_xnnpack_hook_install(ctypes.cast(lib.lbe_abi_version, ctypes.c_void_p).value) == -2


def test_a_wrapper_without_the_function_warns_once_and_leaves_workers_as_they_were(monkeypatch):
    lib = xnnpack_workers.bind(library.load())
    monkeypatch.setattr(xnnpack_workers, "_installed", {})

    class NoFunction:
        pass

    with pytest.warns(RuntimeWarning, match="no loaded library holds") as warned:
        with xnnpack_workers.workers_kept_awake(lib, NoFunction()) as first:
            pass
        with xnnpack_workers.workers_kept_awake(lib, NoFunction()) as second:
            pass
    assert len(warned) == 1 and first == second == [0]
