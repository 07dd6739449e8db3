"""Multi-thread timing split by the link between the two cores while it ran.

On a VM the host may move the two vCPUs between dies at any moment, and a two-thread run then
measures a different machine (`benchmarks.engine.library.core_link`: a cache line's round trip of
~50 ns on one die, ~400 ns across). `blocked_times_by_link` runs `blocked_times` in parts,
measures the link before and after each, and files each part's samples under "near" (both
round trips under NEAR_NS), "far" (both over FAR_NS) or "mixed", so a report can give the
speed-up for each placement it saw instead of a median of the two.
"""

from typing import Callable, Dict, List, Optional, Tuple

from benchmarks.engine import library
from benchmarks.timing import blocked_times, wait_until_idle

NEAR_NS, FAR_NS = 150.0, 250.0
PLACEMENTS = ("near", "far", "mixed")


def placement(before_ns: float, after_ns: float) -> str:
    """'near', 'far' or 'mixed' for the round trips measured before and after a part."""
    if max(before_ns, after_ns) < NEAR_NS:
        return "near"
    if min(before_ns, after_ns) > FAR_NS:
        return "far"
    return "mixed"


def blocked_times_by_link(
    runners: Dict[object, Callable[[], None]],
    runs: int,
    warmup: int,
    block: int,
    warm_seconds: float,
    parts: int = 4,
    link: Callable[[], Optional[Tuple[float, float]]] = library.core_link,
    *,
    speed_up_seconds: float = 0.0,
) -> Tuple[Dict[object, List[float]], Dict[str, Dict[object, List[float]]], List[Tuple[float, float, int]]]:
    """`blocked_times` over `runs` rounds in up to `parts` parts, the link measured around each.

    Returns all samples per runner (as `blocked_times`), the samples per placement
    ({placement: {runner: seconds}}, placements seen only), and per part (round trip before
    in ns, after, rounds). Without a link (one CPU) every part is filed under "mixed" and none
    is listed.
    """
    parts = max(1, min(parts, runs))
    sizes = [runs // parts + (i < runs % parts) for i in range(parts)]
    every: Dict[object, List[float]] = {name: [] for name in runners}
    by_placement: Dict[str, Dict[object, List[float]]] = {}
    links: List[Tuple[float, float, int]] = []
    for i, rounds in enumerate(sizes):
        wait_until_idle()  # a pool still spinning would share a core with the link's pinned threads
        before = link()
        times = blocked_times(
            runners, rounds, warmup if i == 0 else 0, block, warm_seconds, speed_up_seconds=speed_up_seconds
        )
        wait_until_idle()
        after = link() if before else None
        kind = placement(before[0], after[0]) if before and after else "mixed"
        if before and after:
            links.append((before[0], after[0], rounds))
        for name, samples in times.items():
            every[name].extend(samples)
            by_placement.setdefault(kind, {}).setdefault(name, []).extend(samples)
    return every, by_placement, links
