"""Bi-Real Net's ApproxSign (Liu et al., ECCV 2018): larq's `ApproxSign` under `bi_real`.

Forward sign(x); backward 2 − 2|x| for |x| < 1, else 0: BiBench's BiRealConv2d, except
that sign(0) = +1 here (the paper, larq) and 0 there (torch.sign).
"""

from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.registry import Card

import larq as lq

register_binarizer("bi_real", Card(paper="Liu et al., ECCV 2018, arXiv 1808.00278", role="activation"))(
    lq.quantizers.ApproxSign
)
