"""Running a flatbuffer with LCE's interpreter, with a clear error for bad bytes."""

from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from larq_compute_engine.tflite.python.interpreter import Interpreter

from converter.tflite_ops import read_operators

# LCE's reference kernel: it runs grouped binary convs (x86's default path refuses
# them), and zero-padded ones on maps smaller than their window, correctly (the
# optimized paths do not; see converter.zero_padding). Benchmarks pick faster paths
# that agree with it.
PARITY_KERNEL_PATH = dict(use_reference_bconv=True)


def run_flatbuffer(
    flatbuffer: bytes,
    inputs: Union[np.ndarray, Sequence[np.ndarray]],
    kernel_path: Optional[Dict[str, bool]] = None,
    num_threads: int = 1,
) -> List[np.ndarray]:
    """Every output of the model on `inputs` (a batch), as a list.

    Raises:
        ValueError: if `flatbuffer` is not a TFLite model.
    """
    read_operators(flatbuffer)  # validates the bytes before LCE sees them
    interpreter = Interpreter(
        flatbuffer, num_threads=num_threads, **(PARITY_KERNEL_PATH if kernel_path is None else kernel_path)
    )
    outputs = interpreter.predict(inputs)
    return list(outputs) if isinstance(outputs, list) else [outputs]
