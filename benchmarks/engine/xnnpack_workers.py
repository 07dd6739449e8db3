"""Keeping XNNPACK's worker threads awake between the ops of a multi-thread engine interpreter.

tflite-runtime's XNNPACK delegate asks pthreadpool to put its workers to sleep after every
XNNPACK partition (`XNN_FLAG_YIELD_WORKERS`). A converted BNN alternates XNNPACK partitions
with Lce ops, so at 2 threads nearly every op began by waking a sleeping thread
(`csrc/xnnpack_spin.c` says what that costs and how the flag is cleared). While
`workers_kept_awake` is active on a thread, runtimes the delegate creates there keep their
workers spinning between ops and between calls, as pthreadpool does after any other job
(~25 ms, then they sleep); `EngineInterpreter.release_threads` sends them to sleep at once.
Results do not change.
"""

import ctypes
import warnings
from contextlib import contextmanager
from typing import Iterator, List, Optional

HOOKED_FUNCTION = "xnn_create_runtime_v4"
_FAILURES = {
    -1: "no loaded library holds tflite-runtime's xnn_create_runtime_v4",
    -2: "tflite-runtime's wrapper has no PLT slot for xnn_create_runtime_v4",
    -3: "the PLT slot for xnn_create_runtime_v4 already points elsewhere",
    -4: "the PLT slot for xnn_create_runtime_v4 could not be made writable",
}
_installed: dict = {}  # {id of the library: None or the reason it failed}


def bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    lib.lbe_xnnpack_hook_install.restype, lib.lbe_xnnpack_hook_install.argtypes = (
        ctypes.c_int,
        [ctypes.c_void_p],
    )
    lib.lbe_xnnpack_keep_workers_awake.restype = None
    lib.lbe_xnnpack_keep_workers_awake.argtypes = [ctypes.c_int]
    lib.lbe_xnnpack_runtimes_kept_awake.restype, lib.lbe_xnnpack_runtimes_kept_awake.argtypes = (
        ctypes.c_int64,
        [],
    )
    return lib


def install(lib: ctypes.CDLL, wrapper: ctypes.CDLL) -> Optional[str]:
    """Redirects the wrapper's calls to xnn_create_runtime_v4 through ours (once per process);
    None when done, else why not (warned once: the engine then runs with sleeping workers)."""
    if id(lib) not in _installed:
        bind(lib)
        function = getattr(wrapper, HOOKED_FUNCTION, None)
        address = ctypes.cast(function, ctypes.c_void_p).value if function is not None else None
        status = lib.lbe_xnnpack_hook_install(address)
        reason = None if status == 0 else _FAILURES.get(status, f"status {status}")
        if reason:
            warnings.warn(
                f"the engine cannot keep XNNPACK's workers awake between ops ({reason}); "
                "multi-thread runs wake them for every op and are slower",
                RuntimeWarning,
                stacklevel=2,
            )
        _installed[id(lib)] = reason
    return _installed[id(lib)]


@contextmanager
def workers_kept_awake(lib: ctypes.CDLL, wrapper: ctypes.CDLL, enabled: bool = True) -> Iterator[List[int]]:
    """Runtimes created on this thread inside the block keep their workers awake; yields a
    one-item list that holds, after the block, how many runtimes that was."""
    count = [0]
    if not enabled or install(lib, wrapper) is not None:
        yield count
        return
    before = lib.lbe_xnnpack_runtimes_kept_awake()
    lib.lbe_xnnpack_keep_workers_awake(1)
    try:
        yield count
    finally:
        lib.lbe_xnnpack_keep_workers_awake(0)
        count[0] = lib.lbe_xnnpack_runtimes_kept_awake() - before
