"""Optimizers as components (`optimizer=RAdam optimizer.learning_rate=2e-3` on `lqz Train*`).

`component.build(total_steps, steps_per_epoch)` returns the Keras optimizer. Gradient
optimizers are the new tf-keras ones (decoupled `weight_decay`, `global_clipnorm`);
inside a `CaseOptimizer` they are built as legacy Keras optimizers, because larq's
CaseOptimizer and Bop accept nothing else.
"""

import abc
from typing import Dict, Optional

from lab_bnn.errors import UserError

import larq as lq
import tensorflow as tf
from zookeeper import ComponentField, Field, component

from zoo.training import choice, describe, field_path, register_keras_object, require
from zoo.training.radam import RAdam as KerasRAdam
from zoo.training.schedules import LearningRate, LinearDecay, Schedule

__all__ = ["Adam", "Bop", "CaseOptimizer", "Optimizer", "RAdam", "SGD", "ZooCaseOptimizer", "describe"]

keras_optimizers = tf.keras.optimizers
IN_CASE = "inside CaseOptimizer (larq's, legacy Keras optimizers) use Adam, SGD or Bop, without weight_decay"


class Optimizer(abc.ABC):
    """Base of the optimizer components."""

    field_help: Dict[str, str] = {}

    @abc.abstractmethod
    def build(self, total_steps: int, steps_per_epoch: int, legacy: bool = False):
        """The Keras optimizer for a run of `total_steps` steps.

        Args:
            total_steps: optimizer steps of the whole run (epochs x steps_per_epoch).
            steps_per_epoch: optimizer steps in one epoch (schedules count epochs).
            legacy: build a `tf.keras.optimizers.legacy` optimizer (for larq's
                CaseOptimizer); only Adam, SGD and Bop have one.

        Returns:
            A Keras optimizer instance.

        Raises:
            UserError: if a field is out of range or the combination is not supported.
        """


class GradientOptimizer(Optimizer):
    """An optimizer that steps every weight along its gradient, with a learning-rate schedule."""

    field_help = {
        "learning_rate": "peak learning rate; the schedule shapes it over the run (LAB paper, Adam: 2.5e-3)",
        "schedule": "learning-rate schedule: LinearDecay, CosineDecay, StepDecay or Constant",
        "weight_decay": "decoupled weight decay per step, w -= lr_t*wd*w (PyTorch's AdamW form; 0: none)",
        "clipnorm": "clip the global norm of all gradients (this optimizer's only, in a CaseOptimizer) "
        "to this value after summing over replicas (None: no clipping)",
    }
    learning_rate: float = Field(2.5e-3)
    schedule: Schedule = ComponentField(LinearDecay)
    weight_decay: float = Field(0.0)
    clipnorm: Optional[float] = Field(None)

    def build(self, total_steps: int, steps_per_epoch: int, legacy: bool = False):
        self.validate()
        learning_rate = self.schedule(self.learning_rate, total_steps, steps_per_epoch)
        if legacy:
            if self.weight_decay:
                raise UserError(f"{IN_CASE}; received {field_path(self, 'weight_decay')}={self.weight_decay}")
            return self.legacy_keras_optimizer(learning_rate, global_clipnorm=self.clipnorm)
        return self.keras_optimizer(
            learning_rate, weight_decay=self.weight_decay or None, global_clipnorm=self.clipnorm
        )

    def validate(self) -> None:
        """Raise a UserError naming the first field that is out of range."""
        require(self, "learning_rate", lambda v: v > 0, "> 0")
        require(self, "weight_decay", lambda v: v >= 0, ">= 0")
        require(self, "clipnorm", lambda v: v is None or v > 0, "> 0 or None")

    @abc.abstractmethod
    def keras_optimizer(self, learning_rate: LearningRate, **common):
        """The new-API Keras optimizer; `common` holds weight_decay and global_clipnorm."""

    def legacy_keras_optimizer(self, learning_rate: LearningRate, **common):
        """The legacy Keras optimizer; `common` holds global_clipnorm."""
        raise UserError(f"{IN_CASE}; received {choice(self)}")


class AdamLike(GradientOptimizer):
    """The fields shared by Adam and RAdam."""

    field_help = {
        "beta_1": "decay of the gradient's moving average (paper: 0.9)",
        "beta_2": "decay of the squared gradient's moving average (paper: 0.999)",
    }
    beta_1: float = Field(0.9)
    beta_2: float = Field(0.999)

    def validate(self) -> None:
        super().validate()
        require(self, "beta_1", lambda v: 0 <= v < 1, "in [0, 1)")
        require(self, "beta_2", lambda v: 0 <= v < 1, "in [0, 1)")
        require(self, "epsilon", lambda v: v > 0, "> 0")


@component
class Adam(AdamLike):
    """Adam (Kingma & Ba 2015); with weight_decay > 0 it is AdamW (Loshchilov & Hutter 2019)."""

    field_help = {"epsilon": "added to sqrt(v), bias correction folded into the step (Keras: 1e-7)"}
    epsilon: float = Field(1e-7)

    def keras_optimizer(self, learning_rate, **common):
        return keras_optimizers.Adam(learning_rate, self.beta_1, self.beta_2, self.epsilon, **common)

    def legacy_keras_optimizer(self, learning_rate, **common):
        return keras_optimizers.legacy.Adam(learning_rate, self.beta_1, self.beta_2, self.epsilon, **common)


@component
class RAdam(AdamLike):
    """Rectified Adam (Liu et al. 2020) with PyTorch's semantics; BoolNet's optimizer.
    weight_decay is decoupled (torch.optim.RAdam with decoupled_weight_decay=True).
    Not available inside a CaseOptimizer."""

    field_help = {
        "epsilon": "added to sqrt(v) (PyTorch: 1e-8)",
        "sma_threshold": "rho_t above which the adaptive step is used, else momentum SGD (PyTorch: 5)",
    }
    epsilon: float = Field(1e-8)
    sma_threshold: float = Field(5.0)

    def validate(self) -> None:
        super().validate()
        # The rectification term is real only for rho_t >= 4.
        require(self, "sma_threshold", lambda v: v >= 4, ">= 4")

    def keras_optimizer(self, learning_rate, **common):
        return KerasRAdam(learning_rate, self.beta_1, self.beta_2, self.epsilon, self.sma_threshold, **common)


@component
class SGD(GradientOptimizer):
    """Stochastic gradient descent with (Nesterov) momentum; larq-zoo's QuickNet uses
    it for the non-binary weights."""

    field_help = {
        "momentum": "velocity decay, v = momentum*v - lr*g (QuickNet: 0.9)",
        "nesterov": "Nesterov momentum, w += momentum*v - lr*g",
    }
    momentum: float = Field(0.9)
    nesterov: bool = Field(False)

    def validate(self) -> None:
        super().validate()
        require(self, "momentum", lambda v: 0 <= v < 1, "in [0, 1)")

    def keras_optimizer(self, learning_rate, **common):
        return keras_optimizers.SGD(learning_rate, self.momentum, self.nesterov, **common)

    def legacy_keras_optimizer(self, learning_rate, **common):
        return keras_optimizers.legacy.SGD(learning_rate, self.momentum, self.nesterov, **common)


@component
class Bop(Optimizer):
    """Binary optimizer (Helwegen et al. 2019, larq's Bop): flips a ±1 weight when the
    moving average of its gradient agrees with it by more than `threshold`. It trains
    only binary weights, so it is used as `optimizer.binary` of a CaseOptimizer. It sets
    latent weights to ±1, so scaling binarizers get scale 1 and annealed ones
    (progressive_sign) stop depending on their temperature."""

    field_help = {
        "threshold": "flip a weight w when w*m > threshold (larq's default: 1e-8)",
        "gamma": "adaptivity rate of the gradient average, m += gamma*(g - m) (larq's default: 1e-4)",
    }
    threshold: float = Field(1e-8)
    gamma: float = Field(1e-4)

    def build(self, total_steps: int, steps_per_epoch: int, legacy: bool = False):
        require(self, "threshold", lambda v: v >= 0, ">= 0")
        require(self, "gamma", lambda v: 0 < v <= 1, "in (0, 1]")
        if not legacy:
            raise UserError(
                "Bop trains only binary (±1) weights: use optimizer=CaseOptimizer, whose "
                f"optimizer.binary is Bop by default; received {choice(self)}"
            )
        return lq.optimizers.Bop(threshold=self.threshold, gamma=self.gamma)


@register_keras_object
class ZooCaseOptimizer(lq.optimizers.CaseOptimizer):
    """larq's CaseOptimizer with binary variables (precision 1, `Bop.is_binary_variable`)
    trained by `binary` and all others by `rest`, both legacy Keras optimizers.

    Unlike larq's, its `iterations` counts steps (larq's stays 0; only the children
    count), and it can create its children's variables ahead of the first step (for a
    checkpoint or .h5 restore) and be rebuilt from its config with its predicate.

    Args:
        binary: the optimizer of the binary variables (legacy Keras or larq's Bop).
        rest: the optimizer of every other variable (legacy Keras).
        name: the optimizer's name.
    """

    def __init__(self, binary, rest, name: str = "optimizer_case"):
        super().__init__((lq.optimizers.Bop.is_binary_variable, binary), default_optimizer=rest, name=name)

    @property
    def weights(self):
        """The step counter, then the children's variables (what an .h5 file stores)."""
        return [self.iterations, *super().weights]

    def _apply_gradients(self, distribution, grad_var_lists, name, **kwargs):
        # larq's step runs here, in cross-replica context, where iterations may be updated.
        step = super()._apply_gradients(distribution, grad_var_lists, name, **kwargs)
        with tf.control_dependencies([step] if step is not None else []):
            return self.iterations.assign_add(1)

    def _create_all_weights(self, var_list):
        """Split `var_list` between the children and create all their variables, in
        the order of a first step (slots, then each child's counter and hyper-
        parameters), so an .h5 file's list of weights lines up."""
        if self.var_opt_mapping is None:
            self._compute_var_opt_mapping([(None, var) for var in var_list])
        subsets = [[] for _ in self.optimizers]
        for var in var_list:
            index = self.var_opt_mapping.get(lq.optimizers._var_key(var))  # larq's key of its mapping
            if index is not None:
                subsets[index].append(var)
        _ = self.iterations
        for child, subset in zip(self.optimizers, subsets):
            child._create_slots(subset)
        for child, subset in zip(self.optimizers, subsets):
            child._create_all_weights(subset)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from `get_config()`. larq's own would restore the variable mapping,
        keyed by the saving process's variable ids that match nothing here, so every
        variable would go untrained; the predicate is recomputed instead."""

        def deserialize(optimizer_config):
            return tf.keras.optimizers.deserialize(optimizer_config, custom_objects=custom_objects)

        (binary,) = [deserialize(c) for c in config["optimizer_configs"]]
        return cls(binary, deserialize(config["default_config"]), name=config["name"])


@component
class CaseOptimizer(Optimizer):
    """Binary weights (those whose quantizer has precision 1: larq's
    `Bop.is_binary_variable`) trained by `binary`, all others by `rest` (larq's
    CaseOptimizer; larq-zoo's QuickNet: binary=Adam, rest=SGD). Both are legacy Keras
    optimizers: RAdam and weight_decay are not available here."""

    field_help = {
        "binary": "optimizer of the binary (precision 1) weights: Bop, Adam or SGD",
        "rest": "optimizer of every other weight: Adam or SGD",
    }
    binary: Optimizer = ComponentField(Bop)
    rest: Optimizer = ComponentField(Adam)

    def build(self, total_steps: int, steps_per_epoch: int, legacy: bool = False):
        if legacy:
            raise UserError(f"{IN_CASE}; received {choice(self)}")
        return ZooCaseOptimizer(
            self.binary.build(total_steps, steps_per_epoch, legacy=True),
            self.rest.build(total_steps, steps_per_epoch, legacy=True),
        )
