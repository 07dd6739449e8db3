"""NumPy transcriptions of BiBench's *official* binary convs, forward and gradient (issue 14).

Written from reading htqin/BiBench, BiBench/bibench/models/layers/*.py (the `...Conv2d`
classes) and bibench/models/backbones/reactnet.py (LearnableBias → nn.PReLU →
LearnableBias), not from lab_bnn. Everything is PyTorch-shaped and float64: inputs
(N, C, H, W), weights (C_out, C_in, kh, kw), `padding` an int as in `F.conv2d`. Each
function returns the output and the gradients of L = sum(upstream · output), with the
adjoints that PyTorch's autograd computes written out by hand: `.detach()`ed scale
factors get none, `torch.clamp` passes the gradient where min ≤ x ≤ max.

`torch.sign(0) = 0`; the papers (and larq, and lab_bnn) take sign(0) = +1. `zero_sign`
selects the value so a test can compare both ways.
"""

import numpy as np


def torch_sign(x, zero_sign=0.0):
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, zero_sign))


def conv2d(x, w, stride=1, padding=0):
    """F.conv2d(x, w, stride=stride, padding=padding) without bias."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    _, _, kh, kw = w.shape
    ho, wo = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, :, a : a + stride * (ho - 1) + 1 : stride, b : b + stride * (wo - 1) + 1 : stride]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, a, b])
    return y


def conv2d_adjoint(x, w, gy, stride=1, padding=0):
    """(dL/dx, dL/dw) of y = conv2d(x, w) given dL/dy = gy."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    _, _, kh, kw = w.shape
    ho, wo = gy.shape[2:]
    for a in range(kh):
        for b in range(kw):
            rows = slice(a, a + stride * (ho - 1) + 1, stride)
            cols = slice(b, b + stride * (wo - 1) + 1, stride)
            dw[:, :, a, b] = np.einsum("nohw,nchw->oc", gy, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", gy, w[:, :, a, b])
    return dxp[:, :, padding : padding + x.shape[2], padding : padding + x.shape[3]], dw


def _clamp_pass(x, lo=-1.0, hi=1.0):
    """Where torch.clamp(x, lo, hi) passes the gradient."""
    return ((x >= lo) & (x <= hi)).astype(float)


def _weight_scale(w):
    """`torch.mean(mean(mean(abs(W), 3), 2), 1)` per output channel, detached."""
    return np.abs(w).mean(axis=(1, 2, 3), keepdims=True)


def _bireal_surrogate_grad(x):
    """d/dx of Bi-Real's out3: (x·x + 2x) on [−1, 0), (−x·x + 2x) on [0, 1), constant
    elsewhere; the masks are `x < −1`, `x < 0`, `x < 1` as in BiRealConv2d."""
    lower = (~(x < -1)) & (x < 0)
    upper = (~(x < 0)) & (x < 1)
    return lower * (2 * x + 2) + upper * (-2 * x + 2)


def _binary_conv(xb, wb, x_pass, w_pass, upstream, stride, padding):
    y = conv2d(xb, wb, stride, padding)
    dxb, dwb = conv2d_adjoint(xb, wb, upstream, stride, padding)
    return y, dxb * x_pass, dwb * w_pass


def bnn_conv(x, w, upstream, stride=1, padding=0, zero_sign=0.0):
    """bnn.py BNNConv2d: sign(x), sign(W), both with the clamp(−1, 1) STE."""
    xb, wb = torch_sign(x, zero_sign), torch_sign(w, zero_sign)
    return _binary_conv(xb, wb, _clamp_pass(x), _clamp_pass(w), upstream, stride, padding)


def xnor_conv(x, w, upstream, stride=1, padding=0, zero_sign=0.0):
    """xnor.py XNORConv2d: α_x·sign(x) with α_x = mean|x| per sample over (C, H, W) and
    α_w·sign(W) per output channel, both α detached; the STE gradient is the unscaled
    clamp mask (the detach trick keeps only `cliped_input`'s gradient)."""
    alpha_x = np.abs(x).mean(axis=(1, 2, 3), keepdims=True)
    xb, wb = alpha_x * torch_sign(x, zero_sign), _weight_scale(w) * torch_sign(w, zero_sign)
    return _binary_conv(xb, wb, _clamp_pass(x), _clamp_pass(w), upstream, stride, padding)


def dorefa_conv(x, w, upstream, stride=1, padding=0, zero_sign=0.0):
    """dorefa.py DoReFaConv2d: sign(x) as BNN, α_w·sign(W) per output channel."""
    xb, wb = torch_sign(x, zero_sign), _weight_scale(w) * torch_sign(w, zero_sign)
    return _binary_conv(xb, wb, _clamp_pass(x), _clamp_pass(w), upstream, stride, padding)


def bireal_conv(x, w, upstream, stride=1, padding=0, zero_sign=0.0):
    """bireal.py BiRealConv2d: sign(x) with the piecewise-quadratic surrogate's
    gradient, weights as DoReFaConv2d."""
    xb, wb = torch_sign(x, zero_sign), _weight_scale(w) * torch_sign(w, zero_sign)
    return _binary_conv(xb, wb, _bireal_surrogate_grad(x), _clamp_pass(w), upstream, stride, padding)


def react_conv(x, w, threshold, upstream, stride=1, padding=0, zero_sign=0.0):
    """react.py ReActConv2d: BiRealConv2d on x + channel_threshold (shape (C_in,));
    returns y, dx, dW, d threshold."""
    y, dx, dw = bireal_conv(x + threshold[None, :, None, None], w, upstream, stride, padding, zero_sign)
    return y, dx, dw, dx.sum(axis=(0, 2, 3))


def xnor_plus_plus_conv(x, w, o_scale, h_scale, w_scale, upstream, stride=1, padding=0, zero_sign=0.0):
    """xnorplusplus.py XNORPlusPlusConv2d: conv(sign x, sign W) · o[C] · h[H] · w[W]
    (clamp STE on both signs, no α_w); returns y, dx, dW, d o, d h, d w."""
    gamma = o_scale[None, :, None, None] * h_scale[None, None, :, None] * w_scale[None, None, None, :]
    xb, wb = torch_sign(x, zero_sign), torch_sign(w, zero_sign)
    y0 = conv2d(xb, wb, stride, padding)
    _, dx, dw = _binary_conv(xb, wb, _clamp_pass(x), _clamp_pass(w), upstream * gamma, stride, padding)
    g0 = upstream * y0
    d_o = (g0 * h_scale[None, None, :, None] * w_scale[None, None, None, :]).sum(axis=(0, 2, 3))
    d_h = (g0 * o_scale[None, :, None, None] * w_scale[None, None, None, :]).sum(axis=(0, 1, 3))
    d_w = (g0 * o_scale[None, :, None, None] * h_scale[None, None, :, None]).sum(axis=(0, 1, 2))
    return y0 * gamma, dx, dw, d_o, d_h, d_w


def _unbiased_std_adjoint(v, g, s, axes):
    """Adjoint of v / s with s = sqrt(var(v) + ε), var unbiased over `axes` (torch.var's
    default), given g = dL/d(v / s) — s's own dependence on v included."""
    n = np.prod([v.shape[a] for a in axes])
    centered = v - v.mean(axis=axes, keepdims=True)
    return g / s - (g * v).sum(axis=axes, keepdims=True) * centered / ((n - 1) * s**3)


def recu_conv(x, w, alpha, tau, upstream, training, bias=None, stride=1, padding=0, zero_sign=0.0, eps=1e-5):
    """recu.py ReCUConv2d: (conv(sign a0, sign w2) + bias) · α (α shape (C_out,)).

    w0 = W − mean per output channel, w1 = w0 / (sqrt(var(w0) + ε) / 2 / √2), Q_τ =
    −mean|w1|·ln(2 − 2τ) over the whole tensor (`.item()`, no gradient), w2 = clamp(w1,
    ±Q_τ), identity STE (BinaryQuantize); a0 = a / sqrt(var(a) + ε) per sample in
    training (a0 = a otherwise), gradient max(0, 2 − 2|a0|) (BinaryQuantize_a).
    Returns y, dx, dW, dα, d bias, and the fraction of weights the clamp cuts.
    """
    axes = (1, 2, 3)
    w0 = w - w.mean(axis=axes, keepdims=True)
    sw = np.sqrt(w0.var(axis=axes, ddof=1, keepdims=True) + eps)
    w1 = w0 / (sw / 2 / np.sqrt(2))
    q = -np.abs(w1).mean() * np.log(2 - 2 * tau)
    w2 = np.clip(w1, -q, q)
    if training:
        sa = np.sqrt(x.var(axis=axes, ddof=1, keepdims=True) + eps)
        a0 = x / sa
    else:
        a0 = x
    ab, wb = torch_sign(a0, zero_sign), torch_sign(w2, zero_sign)
    y0 = conv2d(ab, wb, stride, padding) + (0.0 if bias is None else bias[None, :, None, None])
    a = alpha[None, :, None, None]
    g0 = upstream * a
    dab, dwb = conv2d_adjoint(ab, wb, g0, stride, padding)
    da0 = dab * np.maximum(2 - np.abs(2 * a0), 0)
    dx = _unbiased_std_adjoint(x, da0, sa, axes) if training else da0
    dw1 = dwb * _clamp_pass(w1, -q, q)
    dw0 = 2 * np.sqrt(2) * _unbiased_std_adjoint(w0, dw1, sw, axes)
    dw = dw0 - dw0.mean(axis=axes, keepdims=True)
    d_bias = None if bias is None else (g0.sum(axis=(0, 2, 3)))
    return y0 * a, dx, dw, (upstream * y0).sum(axis=(0, 2, 3)), d_bias, (np.abs(w1) > q).mean()


def recu_tau(epoch, max_epochs):
    """ReCUConv2d.model_params_update, called before every training epoch."""
    a = np.e
    t_min, t_max = 0.85, 0.99
    big_a = (t_max - t_min) / (a - 1)
    return big_a * a ** (epoch / max_epochs) + t_min - big_a


def rprelu(x, bias1, slope, bias2, upstream):
    """reactnet.py BasicBlock's move → nn.PReLU → move: PReLU(x + b1) + b2, per channel.
    PyTorch's PReLU backward is `s > 0 ? g : slope·g` for s and `s > 0 ? 0 : s·g` for
    the slope, so at s = 0 the input gets slope·g. Returns y, dx, d b1, d slope, d b2."""
    c = lambda v: v[None, :, None, None]  # noqa: E731
    s = x + c(bias1)
    y = np.where(s > 0, s, c(slope) * s) + c(bias2)
    ds = upstream * np.where(s > 0, 1.0, c(slope))
    per_channel = lambda t: t.sum(axis=(0, 2, 3))  # noqa: E731
    return y, ds, per_channel(ds), per_channel(np.where(s > 0, 0.0, s) * upstream), per_channel(upstream)
