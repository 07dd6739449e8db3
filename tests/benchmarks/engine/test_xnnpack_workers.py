"""Multi-thread engine interpreters keep XNNPACK's workers awake between ops and between calls, and
`release_threads` sends them to sleep; other tflite-runtime interpreters and the outputs do not change.

The oracle for "awake" is the kernel's CPU-time accounting: a pthreadpool worker that spins after
its last job burns CPU while the caller sleeps; one that was told to yield burns none.
"""

import ctypes
import time

import larq as lq
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


def converted(binary: bool) -> bytes:
    """Ends in FULLY_CONNECTED on XNNPACK, whose workers decide what happens after each call;
    `binary`: a binary conv (an engine op) first."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8, 8, 16))
    x = inputs
    if binary:
        x = lq.layers.QuantConv2D(32, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign")(x)
    # without the binary conv, no op of the engine's: a MEAN, not a RESHAPE (LabBnnReshape), feeds the Dense
    x = tf.keras.layers.Flatten()(x) if binary else tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(256)(x)
    flatbuffer = convert(tf.keras.Model(inputs, x))
    tf.keras.backend.clear_session()
    return flatbuffer


@pytest.fixture(scope="module")
def flatbuffers() -> dict:
    return {"binary": converted(True), "float": converted(False)}


def cpu_seconds_after_calls(call, then=lambda: None) -> float:
    """Process CPU time spent over WINDOW_S of sleep right after a few calls and `then()`."""
    time.sleep(0.1)  # every pool of an earlier call has gone to sleep
    for _ in range(3):
        call()
    then()
    before = time.process_time()
    time.sleep(WINDOW_S)
    return time.process_time() - before


def test_workers_spin_after_engine_calls_until_released(flatbuffers):
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 16)).astype(np.float32)
    engine = EngineInterpreter(flatbuffers["binary"], threads=2)
    assert engine.keeps_workers_awake and engine.shares_threads
    plain = tflite.Interpreter(model_content=flatbuffers["float"], num_threads=2)  # built outside the engine
    plain.allocate_tensors()
    plain.set_tensor(plain.get_input_details()[0]["index"], x)

    after_predict = cpu_seconds_after_calls(lambda: engine.predict(x))
    after_release = cpu_seconds_after_calls(lambda: engine.predict(x), engine.release_threads)
    after_plain = cpu_seconds_after_calls(plain.invoke)  # the delegate's own flag: asleep after each call
    seen = (after_predict, after_release, after_plain)
    assert after_predict >= AWAKE_CPU_S, seen
    assert after_release <= ASLEEP_CPU_S and after_plain <= ASLEEP_CPU_S, seen
    one_thread = EngineInterpreter(flatbuffers["binary"], threads=1)
    assert engine.predict(x).tobytes() == one_thread.predict(x).tobytes()  # the same kernels, the same bits


def test_one_thread_and_float_only_engines_leave_the_workers_alone(flatbuffers):
    assert not EngineInterpreter(flatbuffers["binary"], threads=1).keeps_workers_awake
    # No engine op finds the shared pool through which release_threads puts the workers to sleep.
    assert not EngineInterpreter(flatbuffers["float"], threads=2).keeps_workers_awake


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
