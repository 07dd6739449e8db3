"""The zoo's model registry: name → keyword builder, zookeeper factory and the small
input that trains fast on a CPU."""

from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple, Type

from lab_bnn.errors import UserError

import tensorflow as tf

from zoo.models.birealnet import BiRealNet, BiRealNetFactory, LabBNN, LabBNNFactory
from zoo.models.boolnet import BaseNet, BaseNetFactory, BoolNet, BoolNetFactory
from zoo.models.compact_bnn import CompactBNN, CompactBNNFactory
from zoo.models.quicknet import QuickNet, QuickNetFactory
from zoo.models.reactnet import ReActNet, ReActNetFactory
from zoo.models.small_bnn import SmallBNN, SmallBNNFactory
from zoo.models.xnornet import XNORNet, XNORNetFactory


@dataclass(frozen=True)
class ZooModel:
    """A keyword builder, the small input that trains fast on a CPU, the smallest
    height and width the builder accepts (it refuses smaller ones with a UserError),
    the zookeeper factory class (a task's `model` component), and whether the model's
    weights use progressive_sign, whose temperature a training task anneals."""

    build: Callable[..., tf.keras.Model]
    small_input: Tuple[int, int, int]
    min_input_size: int
    factory: Type
    temperature: bool = False


MODELS: Dict[str, ZooModel] = {
    "BiRealNet": ZooModel(BiRealNet, (32, 32, 3), BiRealNetFactory.min_input_size, BiRealNetFactory),
    "LabBNN": ZooModel(LabBNN, (32, 32, 3), LabBNNFactory.min_input_size, LabBNNFactory),
    # Their binary convs (MultiSliceBinaryConv2D and the downsampling 1×1) binarize
    # weights with progressive_sign, whose temperature training anneals.
    "BoolNet": ZooModel(
        BoolNet, (64, 64, 3), BoolNetFactory.min_input_size, BoolNetFactory, temperature=True
    ),
    "BaseNet": ZooModel(
        BaseNet, (64, 64, 3), BaseNetFactory.min_input_size, BaseNetFactory, temperature=True
    ),
    "QuickNet": ZooModel(QuickNet, (32, 32, 3), QuickNetFactory.min_input_size, QuickNetFactory),
    # 64²: the smallest power of two it runs on
    "XNORNet": ZooModel(XNORNet, (64, 64, 3), XNORNetFactory.min_input_size, XNORNetFactory),
    "ReActNet": ZooModel(ReActNet, (32, 32, 3), ReActNetFactory.min_input_size, ReActNetFactory),
    # the LabDemo's network
    "SmallBNN": ZooModel(SmallBNN, (28, 28, 1), SmallBNNFactory.min_input_size, SmallBNNFactory),
    # the Quickstart's and Leaderboard's
    "CompactBNN": ZooModel(CompactBNN, (28, 28, 1), CompactBNNFactory.min_input_size, CompactBNNFactory),
}


def available() -> List[str]:
    """Names of the registered zoo models."""
    return sorted(MODELS)


def get_model(name: str) -> ZooModel:
    """Raises UserError naming the model and the registered ones."""
    if name not in MODELS:
        raise UserError(f"unknown zoo model {name!r}; available: {', '.join(available())}")
    return MODELS[name]
