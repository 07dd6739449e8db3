"""`lqz`: our tasks beside larq-zoo's, and the LabDemo main job end to end."""

from lqz_process import lqz


def test_help_lists_our_tasks_and_larq_zoos():
    result = lqz("--help")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:")[1].split()
    assert {"LabDemo", "TrainBiRealNet", "TrainQuickNet", "TrainR2B"} <= set(commands)


def test_lab_demo_trains_converts_and_prints_binary_ops(tmp_path):
    result = lqz("LabDemo", "steps=3", "batch_size=32", "test_images=64", f"output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    op_line = next(l for l in result.stdout.splitlines() if l.startswith("converted op list:"))
    assert op_line.count("DEPTHWISE_CONV_2D -> LceQuantize -> LceBconv2d") == 4
    assert (tmp_path / "run-1" / "lab_demo.tflite").stat().st_size > 0
    assert (tmp_path / "run-1" / "lab_demo.h5").stat().st_size > 0


def test_missing_data_is_one_line_not_a_traceback(tmp_path):
    result = lqz("LabDemo", f"data_dir={tmp_path}", f"output_dir={tmp_path}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("lqz: error: Fashion-MNIST IDX files not found")
