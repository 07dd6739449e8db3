"""The engine inside tflite-runtime 2.14.0: registering our Lce kernels, and checking the
hand-declared TFLite struct layout before trusting it.

`csrc/tflite_adapter.c` reads TF 2.14's `TfLiteContext`/`TfLiteNode`/`TfLiteTensor`
(declared in `csrc/tflite_abi.h`) by offset. A layout mismatch would not fail loudly, it
would read garbage, so `check_layout` runs a built-in probe model (LceQuantize →
LceDequantize on known tensors) once per process and refuses the engine with one error
naming what was expected and what the C side saw.
"""

import ctypes
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from benchmarks.engine import xnnpack_workers
from benchmarks.engine.library import EngineUnavailable

TFLITE_RUNTIME_VERSION = "2.14.0"
# tflite::MutableOpResolver::AddCustom(const char*, const TfLiteRegistration*, int): exported
# by tflite-runtime's wrapper, the only way to add kernels its Python API offers.
_ADD_CUSTOM = "_ZN6tflite17MutableOpResolver9AddCustomEPKcPK18TfLiteRegistrationi"
# The functions that find an interpreter's XNNPACK threadpool, exported by the same wrapper:
# tflite::CpuBackendContext::GetFromContext(TfLiteContext*), CpuBackendContext::get_xnnpack_threadpool()
# and pthreadpool_parallelize_1d. Our kernels then run on XNNPACK's threads instead of a second pool.
_SHARED_THREADS = (
    "_ZN6tflite17CpuBackendContext14GetFromContextEP13TfLiteContext",
    "_ZN6tflite17CpuBackendContext22get_xnnpack_threadpoolEv",
    "pthreadpool_parallelize_1d",
)
# tflite::Subgraph::GetExecutionPlan(TfLiteContext*, TfLiteIntArray**) and
# GetNodeAndRegistration(TfLiteContext*, int, TfLiteNode**, TfLiteRegistration**), exported by the
# same wrapper (the context's own are forbidden to kernels): an engine op finds the engine ops
# after it in the plan and runs them in one thread team.
_READ_PLAN = (
    "_ZN6tflite8Subgraph16GetExecutionPlanEP13TfLiteContextPP14TfLiteIntArray",
    "_ZN6tflite8Subgraph22GetNodeAndRegistrationEP13TfLiteContextiPP10TfLiteNodePP18TfLiteRegistration",
)
_TFLITE_TYPES = {1: "float32", 2: "int32", 6: "bool", 9: "int8"}
_PROBE_SHAPE = (1, 2, 3, 40)
_PROBE_INPUT_NAME = "lab_bnn_engine_probe_input"


class TeamCounts(NamedTuple):
    """What the thread teams did since the last reset (`csrc/tflite_team.c`, `csrc/threadpool.c`)."""

    teams: int  # teams run (one per run of 2+ engine ops in the plan per call)
    ops: int  # engine ops the teams ran (leaders included)
    early_returns: int  # invokes by TFLite that found their op already run by its leader
    jobs: int  # split ops inside teams (each one hand-over between the threads)
    worker_parts: int  # the workers' shares of those jobs the workers ran
    taken_over: int  # the workers' shares the caller ran (a worker that had not yet started)


class EngineAbiMismatch(EngineUnavailable):
    """tflite-runtime's TFLite structs are not laid out as the engine declares them."""


@dataclass(frozen=True)
class ProbeView:
    """What a kernel sees of the probe's LceQuantize node (see `probe_flatbuffer`)."""

    tensors: int = 3
    node_inputs: int = 1
    node_outputs: int = 1
    options_bytes: int = 0
    input_type: str = "float32"
    input_dims: Tuple[int, ...] = _PROBE_SHAPE
    input_bytes: int = 4 * int(np.prod(_PROBE_SHAPE))
    input_name_length: int = len(_PROBE_INPUT_NAME)
    output_type: str = "int32"
    output_dims: Tuple[int, ...] = (*_PROBE_SHAPE[:-1], (_PROBE_SHAPE[-1] + 31) // 32)
    output_bytes: int = 4 * int(np.prod(_PROBE_SHAPE[:-1])) * ((_PROBE_SHAPE[-1] + 31) // 32)
    input_data_is_python_buffer: bool = True
    dequantized_signs_correct: bool = True


def tflite_runtime_version() -> str:
    """The installed tflite-runtime's version; raises EngineUnavailable when absent or not pinned."""
    try:
        found = version("tflite-runtime")
    except PackageNotFoundError:
        raise EngineUnavailable(
            f"tflite-runtime is not installed (the engine needs tflite-runtime=={TFLITE_RUNTIME_VERSION})"
        ) from None
    if found != TFLITE_RUNTIME_VERSION:
        raise EngineUnavailable(
            f"tflite-runtime {found} is installed; the engine's TFLite structs are declared "
            f"for {TFLITE_RUNTIME_VERSION} only"
        )
    return found


def bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declares the adapter's C signatures on `lib` (idempotent) and returns it."""
    if getattr(lib, "_lbe_tfl_bound", False):
        return lib
    p, i, i64p = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int64)
    for name, restype, argtypes in (
        ("lbe_tfl_session_create", p, [i, i, i]),
        ("lbe_tfl_session_release", None, [p]),
        ("lbe_tfl_session_share_threads", None, [p, p, p, p]),
        ("lbe_tfl_session_shares_threads", i, [p]),
        ("lbe_tfl_session_read_plan", None, [p, p, p]),
        ("lbe_tfl_session_yield_workers", None, [p]),
        ("lbe_tfl_register", i, [p, p, p]),
        ("lbe_tfl_constructed", None, []),
        ("lbe_tfl_op_count", i, [p]),
        ("lbe_tfl_op_times", None, [p, ctypes.POINTER(ctypes.c_int32), i64p]),
        ("lbe_tfl_reset_times", None, [p]),
        ("lbe_tfl_team_counts", None, [p, i64p]),
        ("lbe_tfl_probe_report", i64p, [p]),
        ("lbe_tfl_probe_fields", i, []),
        ("lbe_tfl_op_name", ctypes.c_char_p, [i]),
    ):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    lib._lbe_tfl_bound = True
    return lib


class Session:
    """One interpreter's share of the engine: its thread pool, dispatch level and op timers.

    Owns a C reference that each Lce op also holds, so the C session outlives whichever
    of the interpreter and this object goes first.
    """

    def __init__(self, lib: ctypes.CDLL, level: int, threads: int, probe: bool = False):
        self.lib = bind(lib)
        self.handle = lib.lbe_tfl_session_create(level, threads, int(probe))
        self.runtimes_kept_awake = 0  # XNNPACK runtimes whose workers stay awake (set by open_interpreter)
        if not self.handle:
            raise EngineUnavailable(f"could not create an engine session with {threads} threads")

    def op_times(self) -> list:
        """[(op type, ns)] for each Lce op in operator order, accumulated since the last reset."""
        count = self.lib.lbe_tfl_op_count(self.handle)
        kinds, ns = (ctypes.c_int32 * count)(), (ctypes.c_int64 * count)()
        self.lib.lbe_tfl_op_times(self.handle, kinds, ns)
        return [(self.lib.lbe_tfl_op_name(k).decode(), int(t)) for k, t in zip(kinds, ns)]

    def team_counts(self) -> TeamCounts:
        """What the thread teams did since the last reset."""
        counts = (ctypes.c_int64 * len(TeamCounts._fields))()
        self.lib.lbe_tfl_team_counts(self.handle, counts)
        return TeamCounts(*(int(c) for c in counts))

    def shares_threads(self) -> bool:
        """Whether our kernels run on the interpreter's XNNPACK threadpool (set at the first Prepare)."""
        return bool(self.lib.lbe_tfl_session_shares_threads(self.handle))

    def reset_times(self) -> None:
        self.lib.lbe_tfl_reset_times(self.handle)

    def yield_workers(self) -> None:
        """Sends the shared pool's workers to sleep now (they are kept awake between ops and
        calls); nothing for our own pool or before the first Prepare."""
        self.lib.lbe_tfl_session_yield_workers(self.handle)

    def __del__(self):
        if getattr(self, "handle", None):
            self.lib.lbe_tfl_session_release(self.handle)
            self.handle = None


def _addresses(wrapper: ctypes.CDLL, names: Tuple[str, ...]) -> list:
    """The addresses of the exported functions `names` in `wrapper`, or all None if one is missing."""
    try:
        return [ctypes.cast(getattr(wrapper, name), ctypes.c_void_p).value for name in names]
    except AttributeError:
        return [None] * len(names)


def open_interpreter(
    lib: ctypes.CDLL,
    flatbuffer: bytes,
    session: Session,
    threads: int,
    keep_workers_awake: bool = True,
    teams: bool = True,
):
    """tflite-runtime's interpreter for `flatbuffer` with the four Lce ops on `session`
    (float ops on tflite-runtime's default XNNPACK delegate with `threads` threads, whose
    workers stay awake between ops when threads > 1 and `keep_workers_awake`: `xnnpack_workers`;
    `session.yield_workers` sends them to sleep). With `teams`, each run of consecutive engine
    ops in the execution plan runs in one threadpool job when threads > 1 (`csrc/tflite_team.c`)."""
    from tflite_runtime import interpreter as tflite

    tflite_runtime_version()
    wrapper = ctypes.CDLL(tflite._interpreter_wrapper.__file__)
    add_custom = ctypes.cast(getattr(wrapper, _ADD_CUSTOM), ctypes.c_void_p)
    # An unexpected build without them: our own pool, no teams.
    session.lib.lbe_tfl_session_share_threads(session.handle, *_addresses(wrapper, _SHARED_THREADS))
    plan = _addresses(wrapper, _READ_PLAN) if teams else [None] * len(_READ_PLAN)
    session.lib.lbe_tfl_session_read_plan(session.handle, *plan)

    def register(resolver: int) -> None:
        if session.lib.lbe_tfl_register(resolver, add_custom.value, session.handle) != 0:
            raise EngineUnavailable("could not register the engine's Lce ops")

    # The delegate creates its XNNPACK runtimes here and in allocate_tensors (lazily applied).
    with xnnpack_workers.workers_kept_awake(
        session.lib, wrapper, enabled=threads > 1 and keep_workers_awake
    ) as kept_awake:
        try:
            interpreter = tflite.InterpreterWithCustomOps(
                model_content=bytes(flatbuffer), custom_op_registerers=[register], num_threads=threads
            )
        finally:
            session.lib.lbe_tfl_constructed()
        interpreter.allocate_tensors()
    session.runtimes_kept_awake = kept_awake[0]
    return interpreter


def probe_flatbuffer() -> bytes:
    """A two-op model: float32 `_PROBE_SHAPE` → LceQuantize → int32 → LceDequantize → float32."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    words_shape = [*_PROBE_SHAPE[:-1], (_PROBE_SHAPE[-1] + 31) // 32]
    tensors = []
    for index, (shape, kind, name) in enumerate(
        (
            (_PROBE_SHAPE, schema.TensorType.FLOAT32, _PROBE_INPUT_NAME),
            (words_shape, schema.TensorType.INT32, "packed"),
            (_PROBE_SHAPE, schema.TensorType.FLOAT32, "output"),
        )
    ):
        tensor = schema.TensorT()
        tensor.shape, tensor.type, tensor.buffer, tensor.name = list(shape), kind, index + 1, name
        tensors.append(tensor)
    codes, operators = [], []
    for index, name in enumerate(("LceQuantize", "LceDequantize")):
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        code.customCode, code.version = name, 1
        codes.append(code)
        operator = schema.OperatorT()
        operator.opcodeIndex, operator.inputs, operator.outputs = index, [index], [index + 1]
        operator.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
        operators.append(operator)
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.operators, subgraph.inputs, subgraph.outputs = tensors, operators, [0], [2]
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, codes, [subgraph]
    model.buffers = [schema.BufferT() for _ in range(4)]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def probe(lib: ctypes.CDLL, level: int) -> ProbeView:
    """Runs the probe model and returns what the C side saw of it."""
    session = Session(lib, level, threads=1, probe=True)
    interpreter = open_interpreter(lib, probe_flatbuffer(), session, threads=1)
    index = interpreter.get_input_details()[0]["index"]
    x = np.random.RandomState(0).standard_normal(_PROBE_SHAPE).astype(np.float32)
    x[0, 0, 0, :3] = (0.0, -0.0, 1.0)
    interpreter.set_tensor(index, x)
    python_pointer = interpreter.tensor(index)().ctypes.data
    interpreter.invoke()
    output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    r = np.ctypeslib.as_array(
        lib.lbe_tfl_probe_report(session.handle), shape=(lib.lbe_tfl_probe_fields(),)
    ).copy()
    side = [r[4 + 14 * j : 18 + 14 * j] for j in (0, 1)]
    del interpreter
    return ProbeView(
        tensors=int(r[0]),
        node_inputs=int(r[1]),
        node_outputs=int(r[2]),
        options_bytes=int(r[3]),
        input_type=_TFLITE_TYPES.get(int(side[0][0]), f"type {side[0][0]}"),
        input_dims=tuple(int(d) for d in side[0][2 : 2 + max(0, min(8, int(side[0][1])))]),
        input_bytes=int(side[0][10]),
        input_name_length=int(side[0][12]),
        output_type=_TFLITE_TYPES.get(int(side[1][0]), f"type {side[1][0]}"),
        output_dims=tuple(int(d) for d in side[1][2 : 2 + max(0, min(8, int(side[1][1])))]),
        output_bytes=int(side[1][10]),
        input_data_is_python_buffer=int(side[0][11]) == python_pointer,
        dequantized_signs_correct=bool(np.array_equal(output, np.where(x < 0, -1.0, 1.0).astype(np.float32))),
    )


_checked: Dict[int, ProbeView] = {}


def check_layout(lib: ctypes.CDLL, level: int, expected: Optional[ProbeView] = None) -> ProbeView:
    """Runs the probe (once per process and level, unless `expected` is given) and refuses
    the engine when the C side saw anything but `expected` (default `ProbeView()`).

    Raises:
        EngineAbiMismatch: one line naming every field expected and seen.

    Example:
        >>> check_layout(library.load(), level=0)  # doctest: +SKIP
        ProbeView(tensors=3, ...)
    """
    if expected is None and level in _checked:
        return _checked[level]
    want = asdict(expected or ProbeView())
    seen_view = probe(lib, level)
    seen = asdict(seen_view)
    wrong = [name for name in want if want[name] != seen[name]]
    if wrong:
        raise EngineAbiMismatch(
            f"tflite-runtime {TFLITE_RUNTIME_VERSION}'s TFLite structs do not match the engine's declaration "
            f"(benchmarks/engine/csrc/tflite_abi.h): expected "
            + ", ".join(f"{name}={want[name]}" for name in wrong)
            + "; seen "
            + ", ".join(f"{name}={seen[name]}" for name in wrong)
            + "; the engine is unavailable, LCE's paths are used"
        )
    if expected is None:
        _checked[level] = seen_view
    return seen_view
