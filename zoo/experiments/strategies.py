"""tf.distribute strategies by name, and who writes the results."""

import json
import os

from lab_bnn.errors import UserError

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """ "default" (one device), "mirrored" (all local GPUs/CPU) or "multi_worker"
    (MultiWorkerMirroredStrategy; the cluster comes from $TF_CONFIG).

    Raises:
        UserError: for another name, or multi_worker without TF_CONFIG.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise UserError(
                "strategy=multi_worker reads the cluster from $TF_CONFIG, which "
                "is not set (see the tf.distribute multi-worker guide)"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"strategy must be one of {list(STRATEGIES)}; received {name!r}")


def worker_index() -> int:
    """This process's index among the workers ($TF_CONFIG's task), 0 without a cluster."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    return int(task.get("index", 0)) if task.get("type", "worker") in ("worker", "chief") else 0


def expected_replicas(name: str) -> int:
    """Replicas `name` will have, known before building it (a multi-worker strategy
    waits for its peers when built): workers in $TF_CONFIG × local GPUs (or 1)."""
    local = max(len(tf.config.list_physical_devices("GPU")), 1)
    if name == "multi_worker" and "TF_CONFIG" in os.environ:
        cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
        return local * (len(cluster.get("worker", [])) + len(cluster.get("chief", [])))
    return local if name == "mirrored" else 1


def is_chief(strategy_name: str) -> bool:
    """Only the chief (worker 0) keeps files; the others write to a scratch folder,
    since saving can take part in collective ops every worker must join."""
    return strategy_name != "multi_worker" or worker_index() == 0


def check_batch_size(batch_size: int, replicas: int) -> None:
    """Raises UserError unless the global batch splits evenly across the replicas."""
    if batch_size <= 0 or batch_size % replicas:
        raise UserError(
            f"batch_size={batch_size} must be a positive multiple of the "
            f"{replicas} replicas in sync (the global batch is split across them)"
        )
