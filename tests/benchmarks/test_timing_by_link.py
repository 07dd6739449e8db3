"""`timing_by_link`: a multi-thread run in parts, each part's samples filed by the core-to-core link
measured around it (a scripted link stands in for `library.core_link`)."""

import itertools

import pytest

from benchmarks import timing, timing_by_link


@pytest.mark.parametrize(
    "before, after, expected",
    [
        (45, 60, "near"),
        (149.9, 20, "near"),
        (150, 40, "mixed"),  # the bounds are strict
        (400, 451, "far"),
        (250.1, 1288, "far"),
        (250, 400, "mixed"),
        (45, 400, "mixed"),  # the host moved the vCPUs during the part
        (400, 45, "mixed"),
    ],
)
def test_placement_of_a_part(before, after, expected) -> None:
    assert timing_by_link.placement(before, after) == expected


def test_parts_are_filed_by_the_link_around_them() -> None:
    trips = iter([40.0, 50.0, 40.0, 400.0, 500.0, 450.0])  # near, then mixed, then far
    calls = {"a": 0, "b": 0}

    def runner(name):
        def run():
            calls[name] += 1

        return run

    every, placed, links = timing_by_link.blocked_times_by_link(
        {"a": runner("a"), "b": runner("b")}, runs=5, warmup=1, block=3, warm_seconds=0.0, parts=3,
        link=lambda: (next(trips), 100.0),
    )  # fmt: skip
    assert links == [(40.0, 50.0, 2), (40.0, 400.0, 2), (500.0, 450.0, 1)]  # 5 rounds in parts of 2, 2, 1
    assert {name: len(samples) for name, samples in every.items()} == {"a": 10, "b": 10}  # 2 a round
    assert {kind: len(placed[kind]["a"]) for kind in placed} == {"near": 4, "mixed": 4, "far": 2}
    assert sorted(itertools.chain(*(placed[kind]["b"] for kind in placed))) == sorted(every["b"])
    assert calls == {"a": 1 + 5 * 3, "b": 1 + 5 * 3}  # the warm-up once, then 3 calls a round


def test_without_a_link_every_part_is_mixed() -> None:
    every, placed, links = timing_by_link.blocked_times_by_link(
        {"a": lambda: None}, runs=3, warmup=0, block=2, warm_seconds=0.0, link=lambda: None
    )
    assert links == [] and list(placed) == ["mixed"] and len(every["a"]) == len(placed["mixed"]["a"]) == 3


def test_every_part_brings_the_cores_to_speed_before_each_turn(monkeypatch) -> None:
    speed_ups = []
    monkeypatch.setattr(timing, "cores_to_speed", lambda seconds: speed_ups.append(seconds))
    timing_by_link.blocked_times_by_link(
        {"a": lambda: None, "b": lambda: None}, runs=3, warmup=0, block=2, warm_seconds=0.0, parts=2,
        link=lambda: (40.0, 100.0), speed_up_seconds=0.02,
    )  # fmt: skip
    assert speed_ups == [0.02] * 6  # 3 rounds of 2 runners, over both parts
