"""Training experiments behind `lqz Train<Model>`."""

from zoo.experiments.train import TrainZooModel, weights_fingerprint

__all__ = ["TrainZooModel", "weights_fingerprint"]
