"""zoo models: keyword builders, their zookeeper factories, and the registry."""

from zoo.models.birealnet import BiRealNet, BiRealNetFactory, LabBNN, LabBNNFactory
from zoo.models.boolnet import (
    BaseNet,
    BaseNetFactory,
    BoolNet,
    BoolNetFactory,
    BoolNetStar,
    BoolNetStarFactory,
)
from zoo.models.compact_bnn import BINARIZER_CHOICES, CompactBNN, CompactBNNFactory
from zoo.models.quicknet import QuickNet, QuickNetFactory
from zoo.models.reactnet import ReActNet, ReActNetFactory
from zoo.models.registry import MODELS, available, get_model
from zoo.models.small_bnn import SmallBNN, SmallBNNFactory
from zoo.models.xnornet import XNORNet, XNORNetFactory

__all__ = [
    "BINARIZER_CHOICES",
    "MODELS",
    "BaseNet",
    "BaseNetFactory",
    "BiRealNet",
    "BiRealNetFactory",
    "BoolNet",
    "BoolNetFactory",
    "BoolNetStar",
    "BoolNetStarFactory",
    "CompactBNN",
    "CompactBNNFactory",
    "LabBNN",
    "LabBNNFactory",
    "QuickNet",
    "QuickNetFactory",
    "ReActNet",
    "ReActNetFactory",
    "SmallBNN",
    "SmallBNNFactory",
    "XNORNet",
    "XNORNetFactory",
    "available",
    "get_model",
]
