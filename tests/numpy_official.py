"""NumPy transcriptions of the *official* code's forward and gradient (issue 14).

Each function is written from reading the official repository, not from lab_bnn, and
works in float64 with reverse-mode adjoints written out by hand:
- LAB, Niblack, Sauvola: the LAB fork of larq (sfalkena/larq, larq/quantizers.py).
- BoolNet's batch norms and local adaptive shifting: hpi-xnor/BoolNet, BoolNet_k_4
  (src/models/modules.py GhostBNSign with binary=False; PyTorch's BatchNorm2d defaults).
- FDA: htqin/BiBench, bibench/models/layers/fda.py (FDAConv2d, NoiseAdaption(_a)).
"""

import numpy as np

from numpy_reference import clip_ste, depthwise_conv_same, depthwise_conv_same_grads, window_sum

TORCH_EPSILON, TORCH_MOMENTUM = 1e-5, 0.1  # torch.nn.BatchNorm2d's defaults


def lab_official(x, kernel, bias, beta, upstream):
    """The LAB fork's LAB: forward and gradients of L = Σ upstream·out.

    The fork's layer: y = QuantDepthwiseConv2D(3, SAME, depth_multiplier=2, bias)(x),
    Keras channel order c·2 + m, so its (3, 3, C, 2) kernel and 2C bias are laid out
    exactly as lab_bnn's; then z = β·reshape(y, (N, H, W, 2, C)) — channel a·C + j goes
    to z[..., a, j], so the pair of output j is (y_j, y_{C+j}); out = −1 where argmax
    over a is 0 (ties included), +1 where it is 1. Gradient: dz = dy ·
    ∂(2·softmax(z, over a)[1] − 1)/∂z, written out: ±2·s0·s1. β multiplies y, so dβ =
    Σ dz·y. Returns (out, z1 − z0, dx, dkernel, dbias, dbeta).
    """
    n, h, w, c = x.shape
    y = depthwise_conv_same(x, kernel, bias)
    z = beta * y.reshape(n, h, w, 2, c)
    out = np.where(np.argmax(z, axis=3) == 0, -1.0, 1.0)
    shifted = np.exp(z - z.max(axis=3, keepdims=True))
    soft = shifted / shifted.sum(axis=3, keepdims=True)
    both = 2.0 * soft[..., 0, :] * soft[..., 1, :]  # ∂(2·s1 − 1)/∂z1 = −∂/∂z0
    grad_z = np.stack([-both * upstream, both * upstream], axis=3)
    grad_y = (beta * grad_z).reshape(n, h, w, 2 * c)
    dx, dkernel = depthwise_conv_same_grads(x, kernel, grad_y)
    dbias = grad_y.sum((0, 1, 2))
    dbeta = (grad_z * y.reshape(n, h, w, 2, c)).sum()
    return out, z[..., 1, :] - z[..., 0, :], dx, dkernel, dbias, dbeta


def _window_average(f, n):
    """Keras AveragePooling2D(n, strides=1, padding="same"): the mean over the pixels of
    the n×n window that lie inside the map; returns it and the per-pixel counts."""
    count = window_sum(np.ones_like(f), n)
    return window_sum(f, n) / count, count


def _window_average_adjoint(h, count, n):
    """Adjoint of `_window_average`: Σ over the windows p containing q of h_p / count_p."""
    return window_sum(h / count, n)


def lab_fork_statistics(x, n, epsilon=1e-9):
    """The LAB fork's mn = avg(x), std = sqrt(avg(|x − mn|²) + ε), plus what the adjoint needs."""
    mean, count = _window_average(x, n)
    deviation = x - mean  # each pixel against its own window mean
    std = np.sqrt(_window_average(deviation**2, n)[0] + epsilon)
    return mean, std, deviation, count


def _statistics_adjoint(grad_mean, grad_std, std, deviation, count, n):
    """dL/dx given dL/dmean and dL/dstd of `lab_fork_statistics`."""
    grad_deviation = deviation * _window_average_adjoint(grad_std / std, count, n)
    through_deviation = grad_deviation - _window_average_adjoint(grad_deviation, count, n)
    return _window_average_adjoint(grad_mean, count, n) + through_deviation


def niblack_official(x, n=3, k=-0.2, epsilon=1e-9, upstream=None):
    """The LAB fork's Niblack: out = ste_sign(x − (mn + k·std)); returns out, x − t, dx."""
    mean, std, deviation, count = lab_fork_statistics(x, n, epsilon)
    u = x - (mean + k * std)
    out, g = clip_ste(u, upstream)
    grad_t = -g
    dx = g + _statistics_adjoint(grad_t, k * grad_t, std, deviation, count, n)
    return out, u, dx


def sauvola_official(x, n=3, k=0.5, epsilon=1e-9, upstream=None, per_sample_range=True):
    """The LAB fork's Sauvola: t = mn·(1 + k·(std/(R + ε) − 1)), R = max std.

    The fork takes R over the whole batch; `per_sample_range` takes it per sample
    (lab_bnn's choice). Returns out, x − t, dx.
    """
    mean, std, deviation, count = lab_fork_statistics(x, n, epsilon)
    axes = (1, 2, 3) if per_sample_range else (0, 1, 2, 3)
    r = std.max(axis=axes, keepdims=True)
    scale = 1 + k * (std / (r + epsilon) - 1)
    u = x - mean * scale
    out, g = clip_ste(u, upstream)
    grad_t = -g
    grad_mean = grad_t * scale
    grad_std = grad_t * mean * k / (r + epsilon)
    grad_r = -(grad_t * mean * k * std).sum(axis=axes, keepdims=True) / (r + epsilon) ** 2
    # R = max std: its gradient is shared equally by tied maxima (pixels whose windows
    # cover the same pixels tie, e.g. on maps no larger than the window), as reduce_max does
    is_max = std == r
    grad_std = grad_std + grad_r * is_max / is_max.sum(axis=axes, keepdims=True)
    dx = g + _statistics_adjoint(grad_mean, grad_std, std, deviation, count, n)
    return out, u, dx


class TorchBatchNorm2d:
    """torch.nn.BatchNorm2d(C) with its defaults, on NHWC arrays.

    Training: normalize with the batch mean and biased variance, then update
    running = (1 − momentum)·running + momentum·batch, the variance with Bessel's
    correction n/(n − 1). Evaluation: normalize with the running statistics.
    """

    def __init__(self, gamma, beta, running_mean, running_var, eps=TORCH_EPSILON, momentum=TORCH_MOMENTUM):
        self.gamma, self.beta = np.asarray(gamma, float), np.asarray(beta, float)
        self.running_mean = np.asarray(running_mean, float).copy()
        self.running_var = np.asarray(running_var, float).copy()
        self.eps, self.momentum = eps, momentum

    def __call__(self, x, training):
        if training:
            n = x.size // x.shape[-1]
            mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta


def local_adaptive_shift_official(x, bn1, bn2, bn_zero_point, depthwise_kernel, training):
    """BoolNet's GhostBNSign before its sign (binary=False, the stem's):
    z = bn1(x) + bn(depthwise3×3(bn2(x))), the depthwise conv zero-padded by 1, no bias."""
    context = bn2(x, training)
    return bn1(x, training) + bn_zero_point(depthwise_conv_same(context, depthwise_kernel, 0.0), training)


def _fourier_grad(x, n, upstream, omega=0.1):
    """FDA_BinaryQuantize.backward: (4ω/π)·Σ_{i=0..n} cos((2i+1)ωx), 0 where |x| > 1."""
    series = sum(np.cos((2 * i + 1) * omega * x) for i in range(n + 1))
    return upstream * 4 * omega / np.pi * series * (np.abs(x) <= 1)


def _noise_adaption(rows, fc1, fc2, upstream_rows):
    """NoiseAdaption on rows (…, d): fc2(relu(fc1 r)) + 0.1·sin r with torch Linear
    weights fc1 (d // k, d), fc2 (d, d // k); a zero-width layer gives 0. Returns the
    value and the gradient of Σ upstream·value with respect to the rows."""
    hidden = rows @ fc1.T
    value = np.maximum(hidden, 0) @ fc2.T + 0.1 * np.sin(rows)
    grad = ((upstream_rows @ fc2) * (hidden > 0)) @ fc1 + 0.1 * np.cos(rows) * upstream_rows
    return value, grad


def fda_activation_official(a, fc1, fc2, n, alpha, upstream):
    """FDAConv2d's ba = sign(a) + α·NoiseAdaption_a(a): the MLP over the channels of each
    pixel (NHWC here, so rows are the last axis). Returns ba and d(Σ upstream·ba)/da."""
    noise, noise_grad = _noise_adaption(a, fc1, fc2, alpha * upstream)
    return np.where(a >= 0, 1.0, -1.0) * (a != 0) + alpha * noise, _fourier_grad(a, n, upstream) + noise_grad


def fda_weight_official(w_torch, fc1, fc2, n, alpha, upstream_torch):
    """FDAConv2d's scaled binary weight in torch layout (out, in, kh, kw):
    (sign(W) + α·NoiseAdaption(W))·mean|W| per output channel (detached). Rows are the
    flattened (in, kh, kw) of each output channel. Returns it and dW."""
    out_channels = w_torch.shape[0]
    rows = w_torch.reshape(out_channels, -1)
    scale = np.abs(rows).mean(axis=1)[:, None, None, None]
    g = upstream_torch * scale
    noise, noise_grad = _noise_adaption(rows, fc1, fc2, alpha * g.reshape(out_channels, -1))
    binary = np.sign(w_torch) + alpha * noise.reshape(w_torch.shape)
    return binary * scale, _fourier_grad(w_torch, n, g) + noise_grad.reshape(w_torch.shape)
