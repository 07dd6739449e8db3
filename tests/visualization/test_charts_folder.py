"""`lqz Charts profiles=` takes folders, globs and comma lists of device profiles as they
come (raw lce_benchmark_model logs and CSVs, imported .ops.csv files), one model per file,
writes nothing beside them, and the page draws a bar per model in headless Chromium."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from zoo.cli import main

from chromium_page import RenderedMarks, chromium, render  # noqa: F401 (chromium: fixture)

FIXTURES = Path(__file__).parents[1] / "benchmarks" / "fixtures"
LOGS = FIXTURES / "device_logs"


@pytest.fixture
def profiles(tmp_path) -> Path:
    """A folder as a user gathers it: a terminal-copied log, a raw profiler CSV with
    XNNPACK's comma-holding node types, and a profile imported by `lqz ImportProfile`."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    shutil.copy(LOGS / "tf2.6_space_aligned.txt", folder / "rpi4.txt")
    shutil.copy(LOGS / "tf2.13_xnnpack_node_types.csv", folder / "pixel7.csv")
    shutil.copy(FIXTURES / "lce_benchmark_small_bnn.txt", tmp_path / "pi4.txt")
    assert main(["ImportProfile", f"path={tmp_path / 'pi4.txt'}", "model=SmallBNN on Pi 4"]) == 0
    shutil.move(tmp_path / "pi4.ops.csv", folder / "pi4.ops.csv")
    return folder


def _contents(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_folder_of_raw_and_imported_profiles_draws_one_bar_per_file(chromium, tmp_path, profiles):
    before = _contents(profiles)
    page = tmp_path / "charts_folder.html"
    assert main(["Charts", f"profiles={profiles}", f"output={page}"]) == 0
    assert _contents(profiles) == before  # nothing written beside the inputs

    drawn = RenderedMarks(render(chromium, page, tmp_path / "chromium", window="1000,500"))

    assert drawn.svg_roots == 1
    assert set(drawn.marks_per_model()) == {"pixel7", "rpi4", "SmallBNN on Pi 4"}
    assert {"pixel7", "rpi4", "SmallBNN on Pi 4"} <= set(drawn.texts)  # the model axis labels
    assert any(mark.startswith("pixel7: Convolution (NHWC, F32) IGEMM") for mark in drawn.marks)


def test_globs_and_files_mix_in_one_list_with_labels(tmp_path, profiles, capsys):
    page = tmp_path / "charts.html"
    spec = f"{profiles}/*.txt,{profiles / 'pixel7.csv'},{profiles}/*.ops.csv"
    assert main(["Charts", f"profiles={spec}", "labels=Pi 4 (log), Pixel 7, Pi 4", f"output={page}"]) == 0
    text = page.read_text()
    assert all(label in text for label in ("Pi 4 (log)", "Pixel 7")) and "rpi4" not in text


def test_a_raw_profiler_csv_where_an_imported_one_was_expected_is_read(tmp_path):
    raw = tmp_path / "device.op_profile.csv"
    shutil.copy(LOGS / "tf2.13_xnnpack_node_types.csv", raw)
    with pytest.raises(pd.errors.ParserError):  # what `lqz Charts` used to read it with
        pd.read_csv(raw)
    assert main(["Charts", f"profiles={raw}", f"output={tmp_path / 'c.html'}"]) == 0
    assert "device.op_profile" in (tmp_path / "c.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.html", "device.op_profile.csv"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["labels=a,b"], r"labels= has 2 names for 3 profile files \(pi4.ops.csv, pixel7.csv, rpi4.txt\)"),
        (["profiles={folder}/*.json"], r"profiles: pattern '.*\*\.json' matches no file"),
        (["profiles={folder}/none.txt"], r"profiles: no such file '.*none.txt'"),
    ],
    ids=["labels", "glob", "file"],
)
def test_bad_profiles_or_labels_are_one_clear_line(tmp_path, profiles, capsys, args, message):
    args = [arg.format(folder=profiles) for arg in args]
    if not any(arg.startswith("profiles=") for arg in args):
        args.append(f"profiles={profiles}")
    capsys.readouterr()
    assert main(["Charts", *args, f"output={tmp_path / 'c.html'}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(message, lines[0].removeprefix("lqz: error: ")), lines
