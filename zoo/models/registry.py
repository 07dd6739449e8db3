"""The zoo's model registry: name → keyword builder and the small input that trains
fast on a CPU."""

from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import tensorflow as tf

from zoo.models.birealnet import BiRealNet, LabBNN
from zoo.models.boolnet import BaseNet, BoolNet


@dataclass(frozen=True)
class ZooModel:
    build: Callable[..., tf.keras.Model]
    small_input: Tuple[int, int, int]


MODELS: Dict[str, ZooModel] = {
    "BiRealNet": ZooModel(BiRealNet, (32, 32, 3)),
    "LabBNN": ZooModel(LabBNN, (32, 32, 3)),
    "BoolNet": ZooModel(BoolNet, (64, 64, 3)),
    "BaseNet": ZooModel(BaseNet, (64, 64, 3)),
}


def available() -> List[str]:
    """Names of the registered zoo models."""
    return sorted(MODELS)


def get_model(name: str) -> ZooModel:
    """Raises ValueError naming the model and the registered ones."""
    if name not in MODELS:
        raise ValueError(f"unknown zoo model {name!r}; available: {', '.join(available())}")
    return MODELS[name]
