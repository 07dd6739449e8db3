"""Every `benchmarks.<name>` the README shows exists: a package name is importable from
`benchmarks`, a module name is a module of the package (or of a subpackage)."""

import importlib
import re
from pathlib import Path

import benchmarks

README = Path(__file__).parents[2] / "README.md"


def documented_names():
    return sorted(set(re.findall(r"\bbenchmarks\.([A-Za-z_][\w.]*\w)", README.read_text())))


def test_the_readme_names_some():
    assert {"measure_latency", "profile_ops", "read_device_profile"} <= set(documented_names())


def test_every_documented_name_exists():
    package = Path(benchmarks.__file__).parent
    for dotted in documented_names():
        first, *rest = dotted.split(".")
        if (package / f"{first}.py").is_file() or (package / first / "__init__.py").is_file():
            # a module or subpackage, e.g. `python -m benchmarks.x`, `benchmarks.engine.build`
            target = importlib.import_module(f"benchmarks.{first}")
            for depth, part in enumerate(rest, start=1):
                if not hasattr(target, part):  # a submodule its package does not import
                    importlib.import_module(".".join(["benchmarks", first, *rest[:depth]]))
                target = getattr(target, part)
        else:
            assert not rest, dotted
            assert first in benchmarks.__all__, dotted
            target = getattr(benchmarks, first)
        assert callable(target) or isinstance(target, type(benchmarks)), dotted


def test_exports_are_the_submodules_objects():
    from benchmarks.device_profile import read_device_profile
    from benchmarks.latency import measure_latency
    from benchmarks.op_profile import profile_ops

    assert benchmarks.measure_latency is measure_latency
    assert benchmarks.profile_ops is profile_ops
    assert benchmarks.read_device_profile is read_device_profile
    assert set(benchmarks.__all__) <= set(dir(benchmarks))
