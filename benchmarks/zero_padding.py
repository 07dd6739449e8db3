"""Which kernel paths compute a zero-padded binary conv correctly, by map and kernel size.

    .venv/bin/python -m benchmarks.zero_padding      # ~2 min on 2 cores

One QuantConv2D (ste_sign input and kernel, 64 input channels) per input map, all in
one model, converted by LCE; each kernel path's outputs are compared with the float
Keras layer's (exact: sums of ±1) and with `reference_bconv`'s. `converter.zero_padding`
states the rule these numbers show.
"""

import argparse
from typing import Sequence, Tuple

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)

import larq as lq
import numpy as np
import pandas as pd
import tensorflow as tf

from benchmarks.host import host_description
from benchmarks.kernel_paths import KERNEL_PATHS, REFERENCE_KERNEL, make_interpreter, run
from converter import convert

Map = Tuple[int, int]


def conv_model(
    maps: Sequence[Map],
    kernel_size: int,
    *,
    dilation: int = 1,
    stride: int = 1,
    pad_value: float = 0.0,
    padding: str = "same",
    channels: int = 64,
    seed: int = 0,
) -> tf.keras.Model:
    """One binary conv per map, named conv_<h>x<w>, each on its own input."""
    tf.keras.utils.set_random_seed(seed)
    inputs, outputs = [], []
    for h, w in maps:
        x = tf.keras.Input((h, w, channels), name=f"map_{h}x{w}")
        outputs.append(
            lq.layers.QuantConv2D(
                32,
                kernel_size,
                strides=stride,
                dilation_rate=dilation,
                padding=padding,
                pad_values=pad_value,
                input_quantizer="ste_sign",
                kernel_quantizer="ste_sign",
                kernel_constraint="weight_clip",
                use_bias=False,
                name=f"conv_{h}x{w}",
            )(x)
        )
        inputs.append(x)
    return tf.keras.Model(inputs, outputs)


def kernel_path_errors(model: tf.keras.Model, flatbuffer: bytes, seed: int = 0) -> pd.DataFrame:
    """max |Δ| per kernel path and map: against the Keras model and against LCE's
    reference path. Inputs and outputs are matched by shape, so maps (and, with
    stride 1, outputs) must differ in shape."""
    rng = np.random.RandomState(seed)
    arrays = {
        tuple(x.shape[1:]): rng.standard_normal((1, *x.shape[1:])).astype(np.float32) for x in model.inputs
    }
    keras = model.predict([arrays[tuple(x.shape[1:])] for x in model.inputs], verbose=0)
    keras = keras if isinstance(keras, list) else [keras]
    outputs = {}
    for path in KERNEL_PATHS:
        interpreter = make_interpreter(flatbuffer, path)
        by_shape = {
            o.shape: o
            for o in run(interpreter, [arrays[tuple(shape[1:])] for shape in interpreter.input_shapes])
        }
        if len(by_shape) != len(keras):
            raise ValueError("kernel_path_errors needs outputs of distinct shapes")
        outputs[path] = [by_shape[k.shape] for k in keras]
    rows = []
    for path, values in outputs.items():
        for x, expected, got, reference in zip(model.inputs, keras, values, outputs[REFERENCE_KERNEL]):
            rows.append(
                {
                    "kernel_path": path,
                    "map": "{}x{}".format(*x.shape[1:3]),
                    "vs_keras": float(np.abs(got - expected).max()),
                    "vs_reference": float(np.abs(got - reference).max()),
                }
            )
    return pd.DataFrame(rows)


def measure(maps: Sequence[Map], kernel_size: int, **options) -> pd.DataFrame:
    """`kernel_path_errors` of `conv_model(maps, kernel_size, **options)`; strided convs
    are converted one map at a time (their outputs can share a shape)."""
    stride = options.get("stride", 1)
    groups = [list(maps)] if stride == 1 else [[m] for m in maps]
    tables = []
    for group in groups:
        model = conv_model(group, kernel_size, **options)
        tables.append(kernel_path_errors(model, convert(model)))
    return pd.concat(tables, ignore_index=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,3,4,5,6,7,8", help="square map sides")
    args = parser.parse_args(argv)
    maps = [(n, n) for n in map(int, args.sizes.split(","))] + [(3, 9), (9, 4)]
    print(f"max |Δ| against the float Keras layer; {host_description()}")
    configs = [
        dict(kernel_size=k, dilation=d, stride=s)
        for k, d, s in (
            (2, 1, 1),
            (3, 1, 1),
            (3, 2, 1),
            (3, 3, 1),
            (3, 1, 2),
            (4, 1, 1),
            (5, 1, 1),
            (5, 1, 2),
            (7, 1, 1),
        )
    ]
    configs += [dict(kernel_size=3, pad_value=1.0), dict(kernel_size=3, padding="valid")]
    for config in configs:
        usable = [m for m in maps if config.get("padding") != "valid" or min(m) >= 3]
        table = measure(usable, **config).pivot(index="kernel_path", columns="map", values="vs_keras")
        print(f"\n{config}")
        print(
            table.reindex(index=list(KERNEL_PATHS), columns=["{}x{}".format(*m) for m in usable])
            .round(3)
            .to_string()
        )


if __name__ == "__main__":
    main()
