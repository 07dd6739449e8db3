"""BNN (Courbariaux et al. 2016): sign with clip-STE, larq's `SteSign` under `bnn`.

Matches BiBench's BNNConv2d forward and gradient except at exactly 0, where we keep the
paper's sign(0) = +1 and BiBench's torch.sign gives 0 (tests/lab_bnn/quantizers/test_bnn.py).
"""

from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.registry import Card

import larq as lq

BNN_PAPER = "Courbariaux et al. 2016, arXiv 1602.02830"

# larq already implements it exactly; register the alias rather than rewrite it.
register_binarizer("bnn", Card(paper=BNN_PAPER, role="activation"))(lq.quantizers.SteSign)
