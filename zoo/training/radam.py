"""RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
ICLR 2020) as a Keras optimizer, with the semantics of PyTorch's `torch.optim.RAdam`.

Neither tf-keras nor larq ship RAdam, and tensorflow-addons (which did) has no build
for this TensorFlow. BoolNet trains with it. Built on the new Keras optimizer API, it
gets `weight_decay` (decoupled), `global_clipnorm` and distribution from the base class.
"""

import tensorflow as tf

from zoo.training import register_keras_object


@register_keras_object
class RAdam(tf.keras.optimizers.Optimizer):
    """Adam whose adaptive step is rectified while the variance estimate is unreliable.

    Per step t (1-based), with rho_inf = 2 / (1 - beta_2) - 1:

        m = beta_1 m + (1 - beta_1) g;   v = beta_2 v + (1 - beta_2) g^2
        m_hat = m / (1 - beta_1^t)
        rho_t = rho_inf - 2 t beta_2^t / (1 - beta_2^t)
        if rho_t > sma_threshold:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            w -= lr r m_hat sqrt(1 - beta_2^t) / (sqrt(v) + epsilon)
        else:
            w -= lr m_hat                      (momentum SGD, no adaptive scaling)

    Args:
        learning_rate: a float or a Keras `LearningRateSchedule`.
        beta_1: decay of the gradient's moving average.
        beta_2: decay of the squared gradient's moving average.
        epsilon: added to sqrt(v), as PyTorch does.
        sma_threshold: rho_t above which the adaptive step is used (PyTorch: 5).
        **kwargs: the base optimizer's `weight_decay`, `global_clipnorm`, `clipnorm`,
            `clipvalue`, `use_ema`, `jit_compile`, `name`, ...

    Example:
        >>> model.compile(RAdam(2e-3, weight_decay=1e-4, global_clipnorm=2.5), loss)
    """

    def __init__(
        self,
        learning_rate=1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        sma_threshold: float = 5.0,
        name: str = "RAdam",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self._learning_rate = self._build_learning_rate(learning_rate)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.sma_threshold = sma_threshold

    def build(self, var_list):
        """Create the moving averages m and v of every variable (once)."""
        super().build(var_list)
        if getattr(self, "_built", False):
            return
        self._built = True
        self._momentums = [self.add_variable_from_reference(var, "m") for var in var_list]
        self._velocities = [self.add_variable_from_reference(var, "v") for var in var_list]

    def update_step(self, gradient, variable):
        """One RAdam step of `variable` (a dense gradient; see the class docstring)."""
        dtype = variable.dtype
        lr = tf.cast(self.learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        index = self._index_dict[self._var_key(variable)]
        m, v = self._momentums[index], self._velocities[index]
        gradient = tf.convert_to_tensor(gradient)  # an IndexedSlices becomes dense

        m.assign_add((gradient - m) * (1 - beta_1))
        v.assign_add((tf.square(gradient) - v) * (1 - beta_2))
        m_hat = m / (1 - tf.pow(beta_1, step))
        beta_2_power = tf.pow(beta_2, step)
        rho_inf = 2 / (1 - beta_2) - 1
        rho_t = rho_inf - 2 * step * beta_2_power / (1 - beta_2_power)
        rectify = rho_t > tf.cast(self.sma_threshold, dtype)
        # Both branches are computed; keep the unused one's sqrt finite.
        rho_safe = tf.where(rectify, rho_t, rho_inf)
        r = tf.sqrt((rho_safe - 4) * (rho_safe - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_safe))
        adaptive = r * m_hat * tf.sqrt(1 - beta_2_power) / (tf.sqrt(v) + self.epsilon)
        variable.assign_sub(lr * tf.where(rectify, adaptive, m_hat))

    def get_config(self):
        """The constructor's arguments (with the base optimizer's)."""
        config = super().get_config()
        config.update(
            {
                "learning_rate": self._serialize_hyperparameter(self._learning_rate),
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "sma_threshold": self.sma_threshold,
            }
        )
        return config
