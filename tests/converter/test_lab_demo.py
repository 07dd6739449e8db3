"""The demo never overwrites an earlier run's files."""

from converter.lab_demo import next_free_dir


def test_next_free_dir_never_reuses_a_folder(tmp_path):
    first = next_free_dir(tmp_path)
    (first / "result.txt").write_text("keep me")
    second = next_free_dir(tmp_path)
    assert (first.name, second.name) == ("run-1", "run-2")
    assert (first / "result.txt").read_text() == "keep me"
