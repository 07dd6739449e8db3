"""The issue-6 tool chain through `lqz`, in process: Convert a zoo model, Benchmark
and Profile it, ImportProfile a device profile, draw Charts; and bad input."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd

from zoo.cli import main

DEVICE_PROFILE = Path(__file__).parents[1] / "benchmarks" / "fixtures" / "lce_benchmark_small_bnn.txt"


def test_convert_benchmark_profile_import_and_chart(tmp_path, capsys):
    assert (
        main(
            [
                "Convert",
                "model=SmallBNN",
                "input_shape=12,12,1",
                "num_classes=10",
                "lab_blocks=True,True,False,False",
                f"output_dir={tmp_path}",
            ]
        )
        == 0
    )
    tflite = tmp_path / "SmallBNN.tflite"
    parity = json.loads((tmp_path / "SmallBNN.parity.json").read_text())
    assert parity["audit"]["binary_convs"] == 4 and parity["stayed_float"] == []
    audit = pd.read_csv(tmp_path / "SmallBNN.audit.csv")
    assert audit.op_type.tolist().count("LceBconv2d") == 4

    for _ in range(2):  # a second measurement is appended, never replacing the first
        assert main(["Benchmark", f"tflite={tflite}", "runs=3", "warmup=1"]) == 0
    latency = pd.read_csv(tmp_path / "SmallBNN.latency.csv")
    assert len(latency) == 2 and latency.kernel.notna().all() and (latency.median_ms > 0).all()

    assert main(["Profile", f"tflite={tflite}", "runs=2", "warmup=1"]) == 0
    profile = pd.read_csv(tmp_path / "SmallBNN.op_profile.csv")
    assert profile.op_type.tolist() == audit.op_type.tolist()

    device = tmp_path / "pi4.txt"
    shutil.copy(DEVICE_PROFILE, device)
    assert main(["ImportProfile", f"path={device}", "model=SmallBNN on Pi 4"]) == 0
    imported = pd.read_csv(tmp_path / "pi4.ops.csv")
    assert set(imported.model) == {"SmallBNN on Pi 4"} and (imported.ms >= 0).all()

    results = tmp_path / "results.csv"
    pd.DataFrame(
        {
            "model": ["SmallBNN"],
            "accuracy": [0.9],
            "latency_ms": [latency.median_ms[0]],
            "size_bytes": [tflite.stat().st_size],
        }
    ).to_csv(results, index=False)
    assert (
        main(
            [
                "Charts",
                f"profiles={tmp_path / 'SmallBNN.op_profile.csv'},{tmp_path / 'pi4.ops.csv'}",
                f"results={results}",
                f"output={tmp_path / 'charts.html'}",
            ]
        )
        == 0
    )
    page = (tmp_path / "charts.html").read_text()
    assert "SmallBNN on Pi 4" in page and not re.search(r"<script[^>]+src=", page)


def test_tool_chain_bad_input_is_one_clear_line(tmp_path, capsys):
    cases = [
        (["Convert", "model=ResNet"], r"unknown zoo model 'ResNet'; available: BaseNet"),
        (["Convert"], r"give exactly one of run_dir=.* or model=<one of BaseNet"),
        (["Benchmark", f"tflite={tmp_path / 'none.tflite'}"], r"tflite='.*none.tflite' is not a file"),
        (["Charts"], r"nothing to draw"),
    ]
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00" * 64)
    cases.append((["Benchmark", f"tflite={corrupt}"], r".*TFLite flatbuffer"))
    cases.append((["Benchmark", f"tflite={corrupt}", "kernel=fast"], r"unknown kernel path 'fast'"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    cases.append((["ImportProfile", f"path={empty}"], r".*empty"))
    cases.append(
        (
            ["ImportProfile"],
            r"path='' is empty; give a file holding the output of "
            r"lce_benchmark_model",
        )
    )
    cases.append(
        (
            ["ImportProfile", f"path={tmp_path}"],
            r"path='.*' is a folder, not a file; "
            r"give a file holding",
        )
    )
    binary = tmp_path / "results.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    cases.append((["Charts", f"results={binary}"], r"results: '.*results.csv' is not a CSV table"))
    for args, message in cases:
        assert main(args) == 2, args
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and re.match(message, lines[0].removeprefix("lqz: error: ")), lines
