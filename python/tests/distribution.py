"""Whether two tensors hold the same distribution, as the tests and scripts judge it: constants
exactly, zero rows at the same indices, mean and standard deviation within their standard
errors, and a two-sample Kolmogorov–Smirnov test at α = 1e-6."""

import math

import numpy as np

ALPHA = 1e-6


def ks_two_sample(a, b):
    """Two-sample KS statistic and its asymptotic p-value (Kolmogorov's series)."""
    a, b = np.sort(a), np.sort(b)
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / a.size
    cdf_b = np.searchsorted(b, both, side="right") / b.size
    d = np.max(np.abs(cdf_a - cdf_b))
    n = a.size * b.size / (a.size + b.size)
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(max(p, 0.0), 1.0)


def compare(ours, theirs):
    """None when torch tensors ``ours`` and ``theirs`` agree in distribution, else why not."""
    if tuple(ours.shape) != tuple(theirs.shape):
        return f"shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    t = theirs.detach().double().flatten().numpy()
    o = ours.detach().double().flatten().numpy()
    if t.size == 0:
        return None
    if np.all(t == t[0]):
        return None if np.all(o == t[0]) else f"constant {t[0]} expected, got {o[:4]}"
    if theirs.dim() >= 2:
        zero_t = [i for i, row in enumerate(theirs.reshape(theirs.shape[0], -1)) if not row.any()]
        zero_o = [i for i, row in enumerate(ours.reshape(ours.shape[0], -1)) if not row.any()]
        if zero_t != zero_o:
            return f"zero rows {zero_o} vs {zero_t}"
    n = t.size
    # Two independent samples: the difference of their means has SE √2·σ/√n; a normal sample's
    # std has relative SE √(1/2n) (1.5× for the heavier tails of a uniform or a wide cut).
    se_mean = t.std() / math.sqrt(n)
    se_std = math.sqrt(0.5 / n)
    if abs(o.mean() - t.mean()) > 6 * math.sqrt(2) * se_mean:
        return f"mean {o.mean():.3g} vs {t.mean():.3g}"
    if abs(o.std() / t.std() - 1) > 6 * math.sqrt(2) * se_std * 1.5:
        return f"std {o.std():.4g} vs {t.std():.4g}"
    _, p = ks_two_sample(o, t)
    if p < ALPHA:
        return f"KS p = {p:.2e}"
    return None
