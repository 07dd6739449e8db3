"""NumPy transcriptions of the BiBench binarizers (ALGORITHMS.md, BiBench's code).

Gradients are of L = sum(upstream * output). Kernels are Keras-shaped: the last axis
is the output channel. Checked against htqin/BiBench, BiBench/bibench/models/layers/
(issue 14): each docstring names the official class it agrees with, or how it
differs; whole official convs are in `numpy_official_bibench`. Here sign(0) = +1 (the
papers, larq); the official code's torch.sign(0) is 0.
"""

import numpy as np


def sign(x):
    """sign with sign(0) = +1 (the papers, larq); BiBench's torch.sign(0) is 0."""
    return np.where(x >= 0, 1.0, -1.0)


def clip_ste(x, upstream, clip=1.0):
    """Gradient of `torch.clamp(x, −1, 1)` as BNNConv2d / XNORConv2d / DoReFaConv2d's
    detach trick passes it (bnn.py, xnor.py, dorefa.py): 1 on the closed interval."""
    return upstream * (np.abs(x) <= clip)


def approx_sign_grad(x, upstream):
    """Bi-Real's ApproxSign: 2 − 2|x| for |x| < 1 (= max(0, 2 − 2|x|)); equals the
    derivative of BiRealConv2d's piecewise quadratic (bireal.py, react.py) and ReCU's
    BinaryQuantize_a (recu.py)."""
    return upstream * np.maximum(0.0, 2.0 - 2.0 * np.abs(x))


def scaled_sign(w, upstream, per_channel=True):
    """α_w·sign(W), α_w = mean|W| per output channel (or per layer), clip-STE (unscaled).
    Per channel it is the weight path of XNORConv2d, DoReFaConv2d, BiRealConv2d and
    ReActConv2d (α detached); per layer is original DoReFa's, not in BiBench's code."""
    alpha = np.abs(w).reshape(-1, w.shape[-1]).mean(0) if per_channel else np.abs(w).mean()
    return alpha * sign(w), clip_ste(w, upstream)


def xnor_activation(x, upstream):
    """XNORConv2d's input path (xnor.py): α_x = mean|x| per sample, detached, with the
    unscaled clamp STE."""
    alpha = np.abs(x).reshape(len(x), -1).mean(1).reshape((-1,) + (1,) * (x.ndim - 1))
    return alpha * sign(x), clip_ste(x, upstream)


def rsign(x, tau, upstream):
    """sign(x + τ); gradients to x and to τ (summed over all but channels): ReActConv2d's
    channel_threshold (react.py)."""
    g = approx_sign_grad(x + tau, upstream)
    return sign(x + tau), g, g.reshape(-1, x.shape[-1]).sum(0)


def rprelu(x, gamma, slope, zeta, upstream):
    """The paper's PReLU(x − γ) + ζ. BiBench's ReActNet (backbones/reactnet.py) has
    x + b for x − γ (γ = −b) and PyTorch's PReLU, whose gradient at s = 0 is the slope,
    not 1 as here: see `numpy_official_bibench.rprelu`."""
    s = x - gamma
    out = np.where(s >= 0, s, slope * s) + zeta
    d_s = upstream * np.where(s >= 0, 1.0, slope)
    sum_c = lambda t: t.reshape(-1, x.shape[-1]).sum(0)  # noqa: E731
    return out, d_s, sum_c(-d_s), sum_c(upstream * np.minimum(s, 0)), sum_c(upstream)


def recu_tau(epoch, epochs, start=0.85, end=0.99):
    """ReCUConv2d.model_params_update (recu.py) for start, end = 0.85, 0.99."""
    a = (end - start) / (np.e - 1)
    return a * np.e ** (epoch / epochs) + start - a


def recu_weight(w, tau, upstream, eps=1e-5):
    """sign(clamp(w1, ±Q)) with identity STE, through the clamp and standardization.
    Returns the output, dW and the fraction of weights the clamp cuts. ReCUConv2d's
    weight path (recu.py): unbiased var, Q_τ over the whole tensor, identity STE."""
    rows = w.reshape(-1, w.shape[-1])  # (d, out): one column per output channel
    n = rows.shape[0]
    centered = rows - rows.mean(0)
    sigma = np.sqrt((centered**2).sum(0) / (n - 1) + eps)
    c = 2 * np.sqrt(2)
    w1 = centered * c / sigma
    q = -np.abs(w1).mean() * np.log(2 - 2 * tau)
    out = sign(np.clip(w1, -q, q))
    g = upstream.reshape(rows.shape) * (np.abs(w1) <= q)
    d_centered = c * (g / sigma - centered * (g * centered).sum(0) / ((n - 1) * sigma**3))
    d_rows = d_centered - d_centered.mean(0)
    return out.reshape(w.shape), d_rows.reshape(w.shape), (np.abs(w1) > q).mean()


def recu_activation_grad(a, upstream, training, eps=1e-5):
    """Gradient max(0, 2 − 2|a0|) with a0 = a / sqrt(var + ε) in training (the
    normalization's own derivative included, as autodiff sees it), a0 = a otherwise.
    ReCUConv2d's input path (recu.py) with BinaryQuantize_a."""
    if not training:
        return approx_sign_grad(a, upstream)
    flat, g_flat = a.reshape(len(a), -1), upstream.reshape(len(a), -1)
    n = flat.shape[1]
    centered = flat - flat.mean(1, keepdims=True)
    s = np.sqrt((centered**2).sum(1, keepdims=True) / (n - 1) + eps)
    a0 = flat / s
    g0 = g_flat * np.maximum(0.0, 2.0 - 2.0 * np.abs(a0))
    # a0_i = a_i / s, ds/da_j = centered_j / ((n − 1) s)
    da = g0 / s - (g0 * flat).sum(1, keepdims=True) * centered / ((n - 1) * s**3)
    return da.reshape(a.shape)


def fda_terms(epoch, epochs):
    return 9 + int(epoch / epochs * 9)


def fda_noise_weight(epoch, epochs):
    return 0.05 * (1 + np.cos(np.pi * (epoch + 1) / epochs))


def fourier_grad(x, n, upstream, omega=0.1):
    series = sum(np.cos((2 * i + 1) * omega * x) for i in range(n + 1))
    return upstream * 4 * omega / np.pi * series * (np.abs(x) <= 1)


def fda_weight(w, fc1, fc2, n, noise_weight, upstream):
    """α_w·(sign(W) + λ·noise(W)); returns the output and dW."""
    d_out = w.shape[-1]
    rows = w.reshape(-1, d_out).T  # (out, d)
    hidden = rows @ fc1
    noise_rows = np.maximum(hidden, 0) @ fc2 + 0.1 * np.sin(rows)
    alpha = np.abs(w).reshape(-1, d_out).mean(0)
    out = alpha * (sign(w) + noise_weight * noise_rows.T.reshape(w.shape))
    g = upstream * alpha  # α_w carries no gradient
    g_rows = (noise_weight * g).reshape(-1, d_out).T
    d_rows = ((g_rows @ fc2.T) * (hidden > 0)) @ fc1.T + 0.1 * np.cos(rows) * g_rows
    dw = fourier_grad(w, n, g) + d_rows.T.reshape(w.shape)
    return out, dw
