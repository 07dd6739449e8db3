"""Small tidy tables shaped like the benchmarks' output, for the chart tests."""

import pandas as pd
import pytest


@pytest.fixture
def op_table() -> pd.DataFrame:
    """Per-op latencies of three models; ADD and LceQuantize fall outside a top 3."""
    rows = [
        ("BiReal", "LceBconv2d", 6.0),
        ("BiReal", "LceBconv2d", 4.0),
        ("BiReal", "CONV_2D", 2.5),
        ("BiReal", "ADD", 1.0),
        ("BiReal", "LceQuantize", 0.5),
        ("BiReal+LAB", "LceBconv2d", 11.0),
        ("BiReal+LAB", "CONV_2D", 2.5),
        ("BiReal+LAB", "ADD", 1.2),
        ("BiReal+LAB", "LceQuantize", 0.6),
        ("BiReal+LAB", "DEPTHWISE_CONV_2D", 3.0),
        ("QuickNet", "LceBconv2d", 7.0),
        ("QuickNet", "CONV_2D", 1.0),
        ("QuickNet", "ADD", 0.4),
    ]
    return pd.DataFrame(rows, columns=["model", "op_type", "ms"])


@pytest.fixture
def scatter_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["BiReal", "BiReal+LAB", "QuickNet"],
            "accuracy": [56.4, 57.8, 55.0],
            "latency_ms": [41.4, 60.6, 30.2],
            "size_bytes": [4_230_000, 4_620_000, 4_400_000],
        }
    )
