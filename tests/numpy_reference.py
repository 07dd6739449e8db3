"""NumPy transcriptions of the binarizer formulas in ALGORITHMS.md: the test oracles.

Written from the formulas, independently of the TensorFlow code: LAB uses the
multiplier-2 depthwise conv and explicit pairing, not the single-difference kernel.
Gradients are of L = sum(upstream * output).
"""

import numpy as np


def pad_same(x, kernel_size):
    p = (kernel_size - 1) // 2
    return np.pad(x, ((0, 0), (p, kernel_size - 1 - p), (p, kernel_size - 1 - p), (0, 0)))


def depthwise_conv_same(x, kernel, bias):
    """Keras DepthwiseConv2D (stride 1, SAME): output channel c*M + m."""
    n, h, w, c = x.shape
    k, _, _, m = kernel.shape
    xp = pad_same(x, k)
    y = np.zeros((n, h, w, c, m))
    for a in range(k):
        for b in range(k):
            y += xp[:, a : a + h, b : b + w, :, None] * kernel[a, b]
    return y.reshape(n, h, w, c * m) + bias


def depthwise_conv_same_grads(x, kernel, grad_y):
    """d/dx and d/dkernel of sum(grad_y * depthwise_conv_same(x, kernel, 0))."""
    n, h, w, c = x.shape
    k, _, _, m = kernel.shape
    g = grad_y.reshape(n, h, w, c, m)
    xp = pad_same(x, k)
    grad_xp = np.zeros_like(xp)
    grad_kernel = np.zeros_like(kernel)
    for a in range(k):
        for b in range(k):
            grad_xp[:, a : a + h, b : b + w, :] += (g * kernel[a, b]).sum(-1)
            grad_kernel[a, b] = (g * xp[:, a : a + h, b : b + w, :, None]).sum((0, 1, 2))
    p = (k - 1) // 2
    return grad_xp[:, p : p + h, p : p + w, :], grad_kernel


def lab(x, kernel, bias, beta, upstream):
    """LAB forward and gradients: returns (out, d, dx, dkernel, dbias, dbeta)."""
    y = depthwise_conv_same(x, kernel, bias)  # (N, H, W, 2C), pairs (2c, 2c+1)
    y0, y1 = y[..., 0::2], y[..., 1::2]
    d = beta * (y1 - y0)
    out = np.where(d > 0, 1.0, -1.0)
    soft = 2.0 / (1.0 + np.exp(-d)) - 1.0  # 2·softmax([0, d])[1] − 1 = tanh(d/2)
    grad_d = upstream * 0.5 * (1.0 - soft**2)
    grad_y = np.empty_like(y)
    grad_y[..., 0::2] = -beta * grad_d
    grad_y[..., 1::2] = beta * grad_d
    dx, dkernel = depthwise_conv_same_grads(x, kernel, grad_y)
    dbias = grad_y.sum((0, 1, 2))
    dbeta = (grad_d * (y1 - y0)).sum()
    return out, d, dx, dkernel, dbias, dbeta


def window_sum(f, n):
    """Sum of f over the n×n window around each pixel (zeros outside the map)."""
    h, w = f.shape[1:3]
    fp = pad_same(f, n)
    return sum(fp[:, a : a + h, b : b + w, :] for a in range(n) for b in range(n))


def local_stats(x, n, epsilon):
    """Window mean over valid pixels, std = sqrt(max(E[x²] − m², 0) + ε), counts."""
    count = window_sum(np.ones_like(x), n)
    mean = window_sum(x, n) / count
    variance = window_sum(x * x, n) / count - mean**2
    return mean, np.sqrt(np.maximum(variance, 0) + epsilon), count, variance > 0


def clip_ste(u, upstream, clip_value=1.0):
    return np.where(u >= 0, 1.0, -1.0), upstream * (np.abs(u) <= clip_value)


def niblack(x, n, k, epsilon, upstream):
    """Niblack forward and dx: out = sign(x − (m + k·s)), clip-STE through x − t."""
    m, s, count, live = local_stats(x, n, epsilon)
    u = x - (m + k * s)
    out, g = clip_ste(u, upstream)
    # d t_p / d x_q = (1 + k (x_q − m_p) / s_p) / count_p for q in the window of p.
    ds = live / (count * s)
    dx = g - (window_sum(g / count, n) + k * (x * window_sum(g * ds, n) - window_sum(g * ds * m, n)))
    return out, u, dx


def sauvola(x, n, k, epsilon, upstream):
    """Sauvola forward and dx: t = m·(1 + k·(s/R − 1)), R = per-sample max s."""
    m, s, count, live = local_stats(x, n, epsilon)
    r = s.max(axis=(1, 2, 3), keepdims=True)
    u = x - m * (1 + k * (s / r - 1))
    out, g = clip_ste(u, upstream)
    ds = live / (count * s)  # d s_p / d x_q = ds_p · (x_q − m_p)
    through_mean = window_sum(g * (1 + k * (s / r - 1)) / count, n)
    through_std = (k / r) * (x * window_sum(g * m * ds, n) - window_sum(g * m * m * ds, n))
    # Through R = s_{p*}: d R / d x_q = ds_{p*} (x_q − m_{p*}) for q in the window of p*.
    pull = -(g * m * k * s).sum(axis=(1, 2, 3), keepdims=True) / r**2
    through_range = np.zeros_like(x)
    for i in range(x.shape[0]):
        argmax = np.zeros_like(s[i : i + 1])
        argmax.flat[np.argmax(s[i])] = 1.0
        window_of_max = window_sum(argmax, n) > 0
        star = np.argmax(s[i])
        m_star, ds_star = m[i].flat[star], ds[i].flat[star]
        through_range[i] = pull[i] * ds_star * (x[i] - m_star) * window_of_max[0]
    dx = g - (through_mean + through_std + through_range)
    return out, u, dx


def depthwise_sign(x, kernel, bias, upstream, clip_value=1.0):
    """DepthwiseSign forward and gradients: sign(dw(x) + b), clip-STE."""
    u = depthwise_conv_same(x, kernel, bias)
    out, g = clip_ste(u, upstream, clip_value)
    dx, dkernel = depthwise_conv_same_grads(x, kernel, g)
    return out, u, dx, dkernel, g.sum((0, 1, 2))
