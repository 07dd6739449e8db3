"""Latency and per-operator measurements of converted `.tflite` models.

from benchmarks import measure_latency, profile_ops, read_device_profile
"""

import importlib

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

# Public name → the submodule defining it. Loaded on first use (PEP 562), so
# `import benchmarks.device_target` does not pay for LCE's interpreter or pandas.
_EXPORTS = {
    "LatencyRecord": "benchmarks.latency",
    "measure_latency": "benchmarks.latency",
    "profile_ops": "benchmarks.op_profile",
    "read_device_profile": "benchmarks.device_profile",
    "parse_device_profile": "benchmarks.device_profile",
    "benchmark_on_device": "benchmarks.device",
    "store_device_result": "benchmarks.device",
    "KERNEL_PATHS": "benchmarks.kernel_paths",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # the next lookup skips this function
        return value
    raise AttributeError(f"module 'benchmarks' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
