"""Epoch schedules of binarizers (ReCU's τ, FDA's terms and noise weight)."""

import numpy as np


def recu_tau(epoch: int, epochs: int, tau_start: float, tau_end: float) -> float:
    """τ = A·e^(epoch/E) + B rising from tau_start (epoch 0) to tau_end (epoch E)."""
    a = (tau_end - tau_start) / (np.e - 1.0)
    return float(a * np.exp(epoch / epochs) + tau_start - a)


def fda_terms(epoch: int, epochs: int, terms_start: int, terms_end: int) -> int:
    """Fourier terms n growing from terms_start to terms_end (BiBench: 9 + ⌊9·e/E⌋)."""
    return int(terms_start + int(epoch / epochs * (terms_end - terms_start)))


def fda_noise_weight(epoch: int, epochs: int, peak: float = 0.05) -> float:
    """Weight of FDA's noise-adaptation term: peak·(1 + cos(π(epoch+1)/E)), 0 at the end."""
    return float(peak * (1.0 + np.cos(np.pi * (epoch + 1) / epochs)))
