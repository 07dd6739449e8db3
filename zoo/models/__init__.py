"""zoo models: keyword builders, their zookeeper factories, and the registry."""

from zoo.models.birealnet import BiRealNet, BiRealNetFactory, LabBNN, LabBNNFactory
from zoo.models.boolnet import (
    BaseNet, BaseNetFactory, BoolNet, BoolNetFactory, BoolNetStar, BoolNetStarFactory,
)
from zoo.models.registry import MODELS, available, get_model
from zoo.models.small_bnn import SmallBNN

__all__ = ["MODELS", "BaseNet", "BaseNetFactory", "BiRealNet", "BiRealNetFactory", "BoolNet",
           "BoolNetFactory", "BoolNetStar", "BoolNetStarFactory", "LabBNN", "LabBNNFactory",
           "SmallBNN", "available", "get_model"]
