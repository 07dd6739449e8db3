"""zoo models (the full registry comes with the zoo issue)."""

from zoo.models.boolnet import (
    BaseNet, BaseNetFactory, BoolNet, BoolNetFactory, BoolNetStar, BoolNetStarFactory,
)
from zoo.models.small_bnn import SmallBNN

__all__ = ["BaseNet", "BaseNetFactory", "BoolNet", "BoolNetFactory", "BoolNetStar",
           "BoolNetStarFactory", "SmallBNN"]
