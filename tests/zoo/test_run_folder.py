"""Atomic writes leave a whole file with the permissions open() would give it."""

import os
import stat

from zoo.experiments.run_folder import write_json_atomic, write_text_atomic


def test_atomic_write_replaces_whole_and_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "rows.csv"
        write_text_atomic(target, "a,b\n1,2\n")
        write_text_atomic(target, "a,b\n3,4\n")
        assert target.read_text() == "a,b\n3,4\n"
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
        write_json_atomic(tmp_path / "r.json", {"x": 1})
        assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "rows.csv"]  # no leftovers
