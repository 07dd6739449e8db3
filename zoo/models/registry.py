"""The zoo's model registry: name → keyword builder and the small input that trains
fast on a CPU."""

from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import tensorflow as tf

from zoo.models.birealnet import BiRealNet, LabBNN
from zoo.models.boolnet import BaseNet, BoolNet
from zoo.models.compact_bnn import CompactBNN
from zoo.models.quicknet import QuickNet
from zoo.models.reactnet import ReActNet
from zoo.models.small_bnn import SmallBNN
from zoo.models.xnornet import XNORNet


@dataclass(frozen=True)
class ZooModel:
    build: Callable[..., tf.keras.Model]
    small_input: Tuple[int, int, int]


MODELS: Dict[str, ZooModel] = {
    "BiRealNet": ZooModel(BiRealNet, (32, 32, 3)),
    "LabBNN": ZooModel(LabBNN, (32, 32, 3)),
    "BoolNet": ZooModel(BoolNet, (64, 64, 3)),
    "BaseNet": ZooModel(BaseNet, (64, 64, 3)),
    "QuickNet": ZooModel(QuickNet, (32, 32, 3)),
    "XNORNet": ZooModel(XNORNet, (64, 64, 3)),  # the smallest power of two it runs on
    "ReActNet": ZooModel(ReActNet, (32, 32, 3)),
    "SmallBNN": ZooModel(SmallBNN, (28, 28, 1)),  # the LabDemo's network
    "CompactBNN": ZooModel(CompactBNN, (28, 28, 1)),  # the Quickstart's and Leaderboard's
}


def available() -> List[str]:
    """Names of the registered zoo models."""
    return sorted(MODELS)


def get_model(name: str) -> ZooModel:
    """Raises ValueError naming the model and the registered ones."""
    if name not in MODELS:
        raise ValueError(f"unknown zoo model {name!r}; available: {', '.join(available())}")
    return MODELS[name]
