"""NumPy transcriptions of BoolNet's official code, forward and gradient (issue 14).

Written from reading hpi-xnor/BoolNet, BoolNet_k_4/src/models/modules.py (binarize,
GhostSign, MultiBConv) and BoolNet_k_4/src/models/boolnet.py (XNOR, OR), not from
lab_bnn. Everything stays in PyTorch's layout (NCHW, multi-slice tensors (N, S, C, H, W),
conv weights (O, I/groups, kh, kw)) and float64; each forward returns its output and a
function mapping the upstream gradient to what autograd computes for the inputs. The
tests map to lab_bnn's layout with `to_nhwc` / `kernel_to_keras`: a (N, S, C, H, W)
tensor viewed as (N, S·C, H, W) is slice-major, as lab_bnn orders channels, and both
frameworks give group g the output channels g·O/G .. (g+1)·O/G − 1, so no permutation.
"""

import numpy as np

SCHEDULE_FACTOR = 0.965  # MultiBConv.update_temperature


def torch_sign(x):
    """torch.sign: −1, 0 or +1 (an exact 0 stays 0)."""
    return np.sign(x)


def clamp_mask(x, low=-1.0, high=1.0):
    """Where torch's clamp passes its gradient: low ≤ x ≤ high, bounds included."""
    return ((x >= low) & (x <= high)).astype(np.float64)


def ghost_sign_offsets(slices):
    """GhostSign's "uniform" offsets: i/(k+1) for i = −k..k, i ≠ 0, k = slices // 2,
    negatives first, each half ascending; a single 0 for one slice."""
    half = slices // 2
    if half == 0:
        return np.zeros(1)
    return np.array([i / (half + 1) for i in range(-half, half + 1) if i != 0])


def ghost_sign(x, slices):
    """GhostSign.forward on (N, C, H, W): binarize(x.unsqueeze(1) + offsets) with
    progressive=False, scale=False, so sign forward and the clamp's gradient backward."""
    shifted = x[:, None] + ghost_sign_offsets(slices)[None, :, None, None, None]

    def backward(grad):  # (N, S, C, H, W) → (N, C, H, W)
        return (grad * clamp_mask(shifted)).sum(axis=1)

    return torch_sign(shifted), backward


def binarize_weight(weight, temperature, training):
    """binarize(weight, T, progressive=training, scale=True) on (O, I, kh, kw):
    hardtanh(W/T) (training) or its sign (eval), times mean|W| per output channel; the
    value is detached, the gradient is the clamp's plus the path through mean|W|."""
    mean = np.abs(weight).mean(axis=(1, 2, 3), keepdims=True)
    value = np.clip(weight / max(temperature, 0.0), -1.0, 1.0)
    if not training:
        value = torch_sign(value)
    count = weight[0].size

    def backward(grad):
        through_mean = np.sign(weight) / count * (grad * value).sum(axis=(1, 2, 3), keepdims=True)
        return grad * mean * clamp_mask(weight) + through_mean

    return value * mean, backward


def _replicate_index(size, pad):
    return np.clip(np.arange(size + 2 * pad) - pad, 0, size - 1)


def replication_pad(x, pad):
    """nn.ReplicationPad2d((pad,)*4) on (N, C, H, W), and its adjoint."""
    rows, cols = _replicate_index(x.shape[2], pad), _replicate_index(x.shape[3], pad)
    padded = x[:, :, rows][:, :, :, cols]

    def backward(grad):
        by_row = np.zeros(grad.shape[:3] + (x.shape[3],))
        np.add.at(by_row, (slice(None), slice(None), slice(None), cols), grad)
        out = np.zeros(x.shape)
        np.add.at(out, (slice(None), slice(None), rows), by_row)
        return out

    return padded if pad else x, backward if pad else (lambda grad: grad)


def grouped_conv2d(x, weight, stride, dilation, groups):
    """F.conv2d(x, weight, padding=0, stride, dilation, groups) and its adjoint for
    x and weight."""
    n, channels, height, width = x.shape
    out_channels, per_group, kh, kw = weight.shape
    out_h = (height - dilation * (kh - 1) - 1) // stride + 1
    out_w = (width - dilation * (kw - 1) - 1) // stride + 1
    per_out = out_channels // groups

    def window(i, j):
        return (
            slice(None),
            slice(None),
            slice(i * dilation, i * dilation + stride * (out_h - 1) + 1, stride),
            slice(j * dilation, j * dilation + stride * (out_w - 1) + 1, stride),
        )

    def blocks():
        for g in range(groups):
            yield slice(g * per_group, (g + 1) * per_group), slice(g * per_out, (g + 1) * per_out)

    out = np.zeros((n, out_channels, out_h, out_w))
    for i in range(kh):
        for j in range(kw):
            patch = x[window(i, j)]
            for cin, cout in blocks():
                out[:, cout] += np.einsum("nchw,oc->nohw", patch[:, cin], weight[cout, :, i, j])

    def backward(grad):
        grad_x, grad_w = np.zeros(x.shape), np.zeros(weight.shape)
        for i in range(kh):
            for j in range(kw):
                patch = x[window(i, j)]
                for cin, cout in blocks():
                    grad_x[window(i, j)][:, cin] += np.einsum(
                        "nohw,oc->nchw", grad[:, cout], weight[cout, :, i, j]
                    )
                    grad_w[cout, :, i, j] += np.einsum("nohw,nchw->oc", grad[:, cout], patch[:, cin])
        return grad_x, grad_w

    return out, backward


def multi_bconv(x, weight, temperature, training, stride=1, padding=1, dilation=1, groups=1):
    """MultiBConv.forward on (N, S, C, H, W) with weight (O, C, kh, kw) (bias=False):
    keep the middle `groups` slices (the middle one for groups = 1), view as
    (N, groups·C, H, W), replicate-pad, grouped conv with the binarized weight.
    Returns the output and backward(grad) → (grad_x, grad_weight)."""
    n, slices, channels, height, width = x.shape
    if groups > 1:
        if slices < groups:
            raise ValueError("the official code needs at least `groups` slices")
        kept = slice((slices - groups) // 2, (slices + groups) // 2)
    else:
        kept = slice(slices // 2, slices // 2 + 1)
    binary, weight_backward = binarize_weight(weight, temperature, training)
    flat = x[:, kept].reshape(n, -1, height, width)
    padded, pad_backward = replication_pad(flat, padding)
    out, conv_backward = grouped_conv2d(padded, binary, stride, dilation, groups)

    def backward(grad):
        grad_padded, grad_binary = conv_backward(grad)
        grad_x = np.zeros(x.shape)
        grad_x[:, kept] = pad_backward(grad_padded).reshape(n, -1, channels, height, width)
        return grad_x, weight_backward(grad_binary)

    return out, backward


def xnor(x, y):
    """boolnet.py's XNOR: x·y, and its adjoint."""
    return x * y, lambda grad: (grad * y, grad * x)


def logic_or(x, y):
    """boolnet.py's OR: clamp((x+1)/2 + (y+1)/2, 0, 1)·2 − 1, and its adjoint."""
    total = (x + 1) / 2 + (y + 1) / 2
    mask = clamp_mask(total, 0.0, 1.0)
    return np.clip(total, 0.0, 1.0) * 2 - 1, lambda grad: (grad * mask, grad * mask)


def to_nhwc(x):
    """(N, C, H, W) → (N, H, W, C); a (N, S, C, H, W) multi-slice tensor first becomes
    (N, S·C, H, W), slice-major, the view MultiBConv takes."""
    if x.ndim == 5:
        x = x.reshape(x.shape[0], -1, *x.shape[3:])
    return np.transpose(x, (0, 2, 3, 1))


def from_nhwc(x, slices=None):
    """Inverse of `to_nhwc`."""
    x = np.transpose(x, (0, 3, 1, 2))
    return x if slices is None else x.reshape(x.shape[0], slices, -1, *x.shape[2:])


def kernel_to_keras(weight):
    """(O, I/groups, kh, kw) → Keras' (kh, kw, I/groups, O)."""
    return np.transpose(weight, (2, 3, 1, 0))


def kernel_from_keras(kernel):
    return np.transpose(kernel, (3, 2, 0, 1))


def away_from(draw, thresholds, margin):
    """Samples of draw() with every value at least `margin` from every threshold, so no
    comparison depends on rounding (float32 against float64)."""
    values = draw()
    while True:
        near = np.zeros(values.shape, bool)
        for t in np.atleast_1d(thresholds):
            near |= np.abs(values - t) < margin
        if not near.any():
            return values
        values = np.where(near, draw(), values)
