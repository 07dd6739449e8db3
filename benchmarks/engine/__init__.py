"""lab-bnn engine: our own x86 kernels for LCE's binary ops (C, run-time CPU dispatch).

``library`` builds and loads the C library, ``kernels`` wraps each kernel for NumPy arrays.
"""
