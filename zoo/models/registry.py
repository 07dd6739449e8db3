"""The zoo's model registry: name → keyword builder and the small input that trains
fast on a CPU."""

from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

from lab_bnn.errors import UserError

import tensorflow as tf

from zoo.models import compact_bnn, small_bnn
from zoo.models.birealnet import BiRealNet, BiRealNetFactory, LabBNN, LabBNNFactory
from zoo.models.boolnet import BaseNet, BaseNetFactory, BoolNet, BoolNetFactory
from zoo.models.compact_bnn import CompactBNN
from zoo.models.quicknet import QuickNet, QuickNetFactory
from zoo.models.reactnet import ReActNet, ReActNetFactory
from zoo.models.small_bnn import SmallBNN
from zoo.models.xnornet import XNORNet, XNORNetFactory


@dataclass(frozen=True)
class ZooModel:
    """A keyword builder, the small input that trains fast on a CPU, and the smallest
    height and width the builder accepts (it refuses smaller ones with a UserError)."""

    build: Callable[..., tf.keras.Model]
    small_input: Tuple[int, int, int]
    min_input_size: int


MODELS: Dict[str, ZooModel] = {
    "BiRealNet": ZooModel(BiRealNet, (32, 32, 3), BiRealNetFactory.min_input_size),
    "LabBNN": ZooModel(LabBNN, (32, 32, 3), LabBNNFactory.min_input_size),
    "BoolNet": ZooModel(BoolNet, (64, 64, 3), BoolNetFactory.min_input_size),
    "BaseNet": ZooModel(BaseNet, (64, 64, 3), BaseNetFactory.min_input_size),
    "QuickNet": ZooModel(QuickNet, (32, 32, 3), QuickNetFactory.min_input_size),
    # 64²: the smallest power of two it runs on
    "XNORNet": ZooModel(XNORNet, (64, 64, 3), XNORNetFactory.min_input_size),
    "ReActNet": ZooModel(ReActNet, (32, 32, 3), ReActNetFactory.min_input_size),
    # the LabDemo's network
    "SmallBNN": ZooModel(SmallBNN, (28, 28, 1), small_bnn.MIN_INPUT_SIZE),
    # the Quickstart's and Leaderboard's
    "CompactBNN": ZooModel(CompactBNN, (28, 28, 1), compact_bnn.MIN_INPUT_SIZE),
}


def available() -> List[str]:
    """Names of the registered zoo models."""
    return sorted(MODELS)


def get_model(name: str) -> ZooModel:
    """Raises UserError naming the model and the registered ones."""
    if name not in MODELS:
        raise UserError(f"unknown zoo model {name!r}; available: {', '.join(available())}")
    return MODELS[name]
