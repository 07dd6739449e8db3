"""Runs a whole converted `.tflite` on tflite-runtime 2.14.0 with the engine's Lce kernels.

Float ops stay on tflite-runtime's builtin kernels and its default XNNPACK delegate (with
the same thread count, its workers kept awake between ops and calls), except those `fusion.fuse`
hands the engine; LceQuantize, LceDequantize, LceBconv2d and LceBMaxPool2d run on our C kernels
at one dispatch level. The object is
duck-typed like LCE's
`larq_compute_engine.tflite.python.interpreter.Interpreter`, so `benchmarks.kernel_paths`
can treat it as one more path.
"""

from typing import Dict, List, Optional, Tuple, Union

from lab_bnn.errors import UserError

import numpy as np

from benchmarks.engine import fusion, library, tflite_abi

Data = Union[np.ndarray, List[np.ndarray]]


class _Wrapper:
    """`.predict(list of arrays)` on one batch, like LCE's C++ wrapper (`Interpreter.interpreter`)."""

    def __init__(self, interpreter):
        self._interpreter = interpreter
        self._inputs = [d["index"] for d in interpreter.get_input_details()]
        self._outputs = [d["index"] for d in interpreter.get_output_details()]

    def predict(self, arrays: List[np.ndarray]) -> List[np.ndarray]:
        for index, array in zip(self._inputs, arrays):
            self._interpreter.set_tensor(index, array)
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(index) for index in self._outputs]


class EngineInterpreter:
    """A converted flatbuffer on tflite-runtime with the engine's Lce kernels.

    Args:
        flatbuffer: the `.tflite` bytes (`converter.convert`'s output).
        threads: threads for our kernels and for XNNPACK's float ops.
        level: dispatch level (`portable`, `avx2`, `avx512`); default
            `library.engine_level()` (`$LAB_BNN_ENGINE_LEVEL` or the CPU's best).
        fuse: rewrite the flatbuffer first (`fusion.fuse`: float-output LceBconv2d → ADD
            becomes one LabBnnBconv2dAdd op; outputs identical bit for bit). False runs the
            flatbuffer as given.
        teams: at more than 1 thread, run each stretch of consecutive engine ops in the
            execution plan inside one threadpool job, the first op invoking the others
            (`csrc/tflite_team.c`); False gives each op its own job. Outputs are the same.

    Raises:
        EngineUnavailable: no library, tflite-runtime missing or not 2.14.0, or the struct
            layout check failed (one line saying which).
        UserError: an unknown or unsupported level, or threads < 1.
        ValueError: tflite-runtime cannot load or prepare the model.

    Example:
        >>> engine = EngineInterpreter(converter.convert(model), threads=1)  # doctest: +SKIP
        >>> engine.predict(np.zeros((2, 32, 32, 3), np.float32)).shape  # doctest: +SKIP
        (2, 10)
    """

    def __init__(
        self,
        flatbuffer: bytes,
        threads: int = 1,
        level: Optional[str] = None,
        fuse: bool = True,
        teams: bool = True,
    ):
        if not isinstance(threads, int) or threads < 1:
            raise UserError(f"threads must be a positive integer; received {threads!r}")
        lib = library.load()
        self.level = level or library.engine_level()
        level_id = library.level_index(self.level)
        tflite_abi.check_layout(lib, level_id)
        self.threads = threads
        self.fused = fuse
        origin = None
        # {index of an ADD fused away (in the flatbuffer given): its LceBconv2d's index}
        self.absorbed: Dict[int, int] = {}
        if fuse:
            flatbuffer, origin = fusion.fuse(flatbuffer, self.absorbed)
        self._session = tflite_abi.Session(lib, level_id, threads)
        indices = _lce_op_indices(flatbuffer)
        # XNNPACK's workers stay awake between ops and between calls (release_threads puts them to
        # sleep). Only a model with engine ops: they find the shared pool that release_threads uses.
        awake = threads > 1 and bool(indices)
        self._tflite = tflite_abi.open_interpreter(lib, flatbuffer, self._session, threads, awake, teams)
        self.interpreter = _Wrapper(self._tflite)
        self._lce_op_indices = [origin[i] for i in indices] if origin is not None else indices

    def _details(self, which: str, key: str) -> list:
        details = self._tflite.get_input_details() if which == "input" else self._tflite.get_output_details()
        return [tuple(int(n) for n in d["shape"]) if key == "shape" else d["dtype"] for d in details]

    @property
    def input_shapes(self) -> List[Tuple[int, ...]]:
        return self._details("input", "shape")

    @property
    def input_types(self) -> list:
        return self._details("input", "dtype")

    @property
    def output_shapes(self) -> List[Tuple[int, ...]]:
        return self._details("output", "shape")

    @property
    def output_types(self) -> list:
        return self._details("output", "dtype")

    def predict(self, x: Data) -> Data:
        """Outputs for a batch, one sample at a time (as LCE's `Interpreter.predict`):
        `x` is an array (one input) or a list of arrays with a leading batch axis."""
        arrays = [x] if isinstance(x, np.ndarray) else list(x)
        if len(arrays) != len(self.input_shapes):
            raise UserError(f"the model has {len(self.input_shapes)} inputs; received {len(arrays)} arrays")
        per_sample = [self.interpreter.predict([a[i : i + 1] for a in arrays]) for i in range(len(arrays[0]))]
        outputs = [np.concatenate(batches) for batches in zip(*per_sample)]
        return outputs[0] if len(outputs) == 1 else outputs

    def op_times(self) -> List[Tuple[int, str, int]]:
        """(operator index in the flatbuffer given, op type, accumulated ns) for every Lce op
        (a fused LabBnnBconv2dAdd under its own name at its LceBconv2d's index; its ADD's time is
        inside it), from the engine's own timers since construction or `reset_op_times()`."""
        times = self._session.op_times()
        return [(index, kind, ns) for index, (kind, ns) in zip(self._lce_op_indices, times)]

    def team_counts(self) -> tflite_abi.TeamCounts:
        """What the thread teams did since construction or `reset_op_times()` (`TeamCounts`): at
        more than 1 thread with `teams`, each run of two or more consecutive engine ops in the
        execution plan is one team per call."""
        return self._session.team_counts()

    @property
    def shares_threads(self) -> bool:
        """True when our kernels run on the interpreter's XNNPACK threadpool (threads > 1 and
        tflite-runtime exports what finds it), False when the engine runs its own pool."""
        return self._session.shares_threads()

    @property
    def keeps_workers_awake(self) -> bool:
        """True when XNNPACK's workers stay awake between ops (threads > 1, the model has Lce ops
        and the delegate's runtimes were created without XNN_FLAG_YIELD_WORKERS:
        `xnnpack_workers`). After a call they spin as after any pthreadpool job (~25 ms), so the
        next call finds them awake, then sleep; `release_threads()` puts them to sleep at once."""
        return self._session.runtimes_kept_awake > 0

    def release_threads(self) -> None:
        """Puts the interpreter's worker threads to sleep now instead of ~25 ms after the last
        call (before other work that needs the cores); the next call wakes them."""
        self._session.yield_workers()

    def reset_op_times(self) -> None:
        self._session.reset_times()

    def __del__(self):
        self.__dict__.pop("interpreter", None)
        self.__dict__.pop("_tflite", None)  # the interpreter frees its ops before the session


def _lce_op_indices(flatbuffer: bytes) -> List[int]:
    """Operator indices of the Lce ops in subgraph 0, in operator order (the order TFLite
    initialises nodes, hence the order of the engine's timers)."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    graph = model.Subgraphs(0)
    found = []
    for index in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(index).OpcodeIndex())
        name = (code.CustomCode() or b"").decode()
        if name in fusion.ENGINE_OPS:
            found.append(index)
    return found
