"""Engine: faster levels equal portable exactly, LceQuantize/Dequantize/BMaxPool2d, level choice, errors."""

from __future__ import annotations

from lab_bnn.errors import UserError

import numpy as np
import pytest

from benchmarks.engine import build, kernels, library
from tests.benchmarks.engine import numpy_lce_reference as ref

LEVELS = library.supported_levels()
FAST_LEVELS = [level for level in LEVELS if level != "portable"]


def random_words(rng: np.random.Generator, shape: tuple[int, ...], channels: int) -> np.ndarray:
    return ref.bitpack(rng.standard_normal((*shape, channels)).astype(np.float32))


@pytest.mark.parametrize("level", FAST_LEVELS)
@pytest.mark.parametrize(
    "case",
    [
        dict(
            shape=(2, 15, 13), cin=256, cout=200, k=3, padding="same", pad_values=0, strides=(1, 1), groups=1
        ),
        dict(
            shape=(1, 14, 14), cin=512, cout=96, k=3, padding="same", pad_values=1, strides=(2, 2), groups=4
        ),
        dict(
            shape=(1, 9, 11), cin=1000, cout=129, k=1, padding="valid", pad_values=1, strides=(1, 1), groups=1
        ),
    ],
    ids=["k3_zero_256", "k3_s2_groups4_512", "k1_1000_to_129"],
)
def test_fast_level_equals_portable_exactly(level: str, case: dict) -> None:
    rng = np.random.default_rng(7)
    batch, h, w = case["shape"]
    x = random_words(rng, (batch, h, w), case["cin"])
    f = random_words(rng, (case["cout"], case["k"], case["k"]), case["cin"] // case["groups"])
    options = dict(channels_in=case["cin"], padding=case["padding"], pad_values=case["pad_values"])
    options["strides"] = case["strides"]
    multiplier = rng.uniform(-1, 1, case["cout"]).astype(np.float32)
    bias = rng.uniform(-9, 9, case["cout"]).astype(np.float32)
    for threads in (1, 2):
        np.testing.assert_array_equal(
            kernels.accumulators(x, f, level=level, threads=threads, **options),
            kernels.accumulators(x, f, level="portable", **options),
        )
        fast = kernels.bconv2d(
            x, f, multiplier, bias, level=level, threads=threads, activation="relu6", **options
        )
        portable = kernels.bconv2d(x, f, multiplier, bias, level="portable", activation="relu6", **options)
        np.testing.assert_array_equal(fast, portable)  # -ffp-contract=off: the same float operations


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("channels", [1, 3, 16, 31, 32, 33, 64, 100, 257])
@pytest.mark.parametrize("pixels", [(2, 3, 5), (1, 1, 3)])  # 3 pixels: a vector tail at 32/64 channels
def test_quantize_equals_reference(level: str, channels: int, pixels: tuple) -> None:
    x = np.random.default_rng(channels).standard_normal((*pixels, channels)).astype(np.float32)
    x.flat[:: max(channels // 3, 1)] = -0.0  # -0.0 packs as +1, like LCE (x < 0 only)
    x.flat[1] = np.nan
    x.flat[2] = 0.0
    words = kernels.quantize(x, level=level)
    np.testing.assert_array_equal(words, ref.bitpack(x))
    np.testing.assert_array_equal(
        kernels.dequantize(words, channels, level=level), ref.dequantize(words, channels)
    )
    np.testing.assert_array_equal(
        kernels.dequantize(words, channels, level=level), np.where(x < 0, -1.0, 1.0)
    )
    # bits past the last channel (any value in LCE's words) are ignored
    noisy = np.random.default_rng(7).integers(-(2**31), 2**31, words.shape, dtype=np.int64).astype(np.int32)
    np.testing.assert_array_equal(
        kernels.dequantize(noisy, channels, level=level), ref.dequantize(noisy, channels)
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("shape", [(1, 56, 56, 64), (3, 17, 19, 100), (1, 8, 8, 33)])  # the last: under 64 Ki
def test_quantize_split_across_threads_equals_reference(level: str, shape: tuple) -> None:
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    expected = ref.bitpack(x)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(
            kernels.quantize(x, level=level, threads=threads), expected, err_msg=threads
        )


@pytest.mark.parametrize(
    "pool_size, strides, padding, hw",
    [((2, 2), (2, 2), "valid", (8, 8)), ((2, 2), (2, 2), "valid", (7, 9)), ((3, 3), (1, 1), "same", (5, 6)),
     ((3, 3), (2, 2), "same", (1, 1)), ((2, 3), (1, 2), "same", (4, 7))],
)  # fmt: skip
def test_bmaxpool_equals_reference(pool_size, strides, padding, hw) -> None:
    words = np.random.default_rng(0).integers(-(2**31), 2**31, (2, *hw, 3), dtype=np.int64).astype(np.int32)
    np.testing.assert_array_equal(
        kernels.bmaxpool2d(words, pool_size, strides, padding),
        ref.bmaxpool2d(words, pool_size, strides, padding),
    )


def test_forced_level_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for level in LEVELS:
        monkeypatch.setenv(library.LEVEL_ENV, level)
        assert library.engine_level() == level
    monkeypatch.delenv(library.LEVEL_ENV)
    assert library.engine_level() == LEVELS[-1]


def test_unknown_forced_level_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(library.LEVEL_ENV, "avx9000")
    with pytest.raises(UserError, match=r"LAB_BNN_ENGINE_LEVEL='avx9000'.*portable, avx2, avx512"):
        library.engine_level()


def test_unsupported_forced_level_names_the_supported_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "supported_levels", lambda: ("portable",))  # a CPU without AVX2
    monkeypatch.setenv(library.LEVEL_ENV, "avx512")
    with pytest.raises(UserError, match=r"'avx512' is not supported by this CPU; supported: portable"):
        library.engine_level()


def test_c_refuses_a_level_the_cpu_lacks_or_bad_groups() -> None:
    x, f = np.zeros((1, 4, 4, 2), np.int32), np.zeros((8, 3, 3, 1), np.int32)
    ones = np.ones(8, np.float32)
    with pytest.raises(UserError, match="multiple of 32"):
        kernels.bconv2d(x, f, ones, ones, channels_in=40)  # 2 groups of 20 channels
    params = kernels.bconv2d_params(x.shape, f.shape, channels_in=64)
    error = library.ctypes.create_string_buffer(200)
    handle = library.load().lbe_bconv2d_create(
        library.ctypes.byref(params), 7, f.ctypes.data, None, None, None, error, 200
    )
    assert not handle and b"level 7" in error.value


def test_arrays_are_validated() -> None:
    with pytest.raises(UserError, match="input must be int32; received float32"):
        kernels.accumulators(
            np.zeros((1, 2, 2, 1), np.float32), np.zeros((1, 1, 1, 1), np.int32), channels_in=32
        )
    with pytest.raises(UserError, match="needs 1"):
        kernels.accumulators(
            np.zeros((1, 2, 2, 2), np.int32), np.zeros((1, 1, 1, 2), np.int32), channels_in=32
        )


def test_stale_build_is_detected(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    library.load()
    assert build.is_current()
    monkeypatch.setattr(build, "HASH_PATH", tmp_path / "other.sha256")
    (tmp_path / "other.sha256").write_text("0" * 64)
    assert not build.is_current()


def test_missing_compiler_is_a_clear_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "no-such-compiler-lbe")
    with pytest.raises(build.BuildError, match="no C compiler: 'no-such-compiler-lbe'"):
        build.compiler()


@pytest.mark.parametrize("level", LEVELS)
def test_peak_is_positive(level: str) -> None:
    assert kernels.peak_binary_macs_per_second(level, seconds=0.01) > 1e9


@pytest.mark.parametrize("threads", [2, 3, 5])
def test_pool_reused_many_times_gives_identical_results(threads: int) -> None:
    rng = np.random.default_rng(11)
    x, f = random_words(rng, (2, 5, 6), 64), random_words(rng, (24, 3, 3), 64)
    params = kernels.bconv2d_params(x.shape, f.shape, channels_in=64, pad_values=0)
    ones = np.ones(24, np.float32)
    conv = kernels.Bconv2d(params, f, ones, ones, level=LEVELS[-1])
    expected = conv.accumulators(x)
    with library.Pool(threads) as pool:
        for _ in range(300):
            np.testing.assert_array_equal(conv.accumulators(x, pool), expected)
    for _ in range(20):  # create/destroy churn: workers start and join cleanly
        with library.Pool(threads) as pool:
            np.testing.assert_array_equal(conv.accumulators(x, pool), expected)


def test_abi_mismatch_makes_the_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    library.load()
    monkeypatch.setattr(library, "ABI_VERSION", 99)
    with pytest.raises(library.EngineUnavailable, match="library ABI 1, this Python expects 99"):
        library.load.__wrapped__()  # the uncached loader


def test_compile_error_makes_the_engine_unavailable_with_the_compiler_text(tmp_path, monkeypatch) -> None:
    (tmp_path / "csrc").mkdir()
    (tmp_path / "csrc" / "broken.c").write_text("int broken = ;\n")
    monkeypatch.setattr(build, "SOURCE_DIR", tmp_path / "csrc")
    monkeypatch.setattr(build, "BUILD_DIR", tmp_path / "_build")
    monkeypatch.setattr(build, "LIBRARY_PATH", tmp_path / "_build" / "liblbe.so")
    monkeypatch.setattr(build, "HASH_PATH", tmp_path / "_build" / "liblbe.sha256")
    with pytest.raises(library.EngineUnavailable, match=r"compiling the engine failed:(.|\n)*broken\.c"):
        library.load.__wrapped__()
    assert not (tmp_path / "_build" / "liblbe.so").exists()  # nothing half-built is left in place
