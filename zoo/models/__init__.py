"""zoo models (the full registry comes with the zoo issue)."""

from zoo.models.small_bnn import SmallBNN

__all__ = ["SmallBNN"]
