"""Bureaus and their reports: the heterogeneity of bureaus and the draws of report counts.

Each bureau ``b`` expects ``lambda_b`` reports per period (all types together) and has
capacity ``K_b`` (``docs/model.md``, sections 1.2 and 3.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import ModelParams

__all__ = [
    "Bureaus",
    "bureau_normals",
    "bureaus_from_normals",
    "draw_bureaus",
    "draw_reports",
]


@dataclass(frozen=True)
class Bureaus:
    """Bureaus' expected reports per period (all types) and capacity."""

    reports: np.ndarray
    capacity: np.ndarray


def draw_bureaus(params: ModelParams, seed: int | np.random.SeedSequence) -> Bureaus:
    """Draw the bureaus' heterogeneity.

    ``lambda_b = reports_mean exp(sigma Z_b - sigma^2 / 2)`` (lognormal with mean
    ``reports_mean``; ``docs/model.md``, section 1.2) and ``K_b = capacity_ratio lambda_b
    exp(sigma_K W_b - sigma_K^2 / 2)``.
    """
    return bureaus_from_normals(params, bureau_normals(seed, params.n_bureaus))


def bureau_normals(seed: int | np.random.SeedSequence, n_bureaus: int) -> np.ndarray:
    """The standard normal draws ``(Z_b, W_b)`` of :func:`draw_bureaus`, shape (2, n_bureaus)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.default_rng(ss).standard_normal((2, n_bureaus))


def bureaus_from_normals(params: ModelParams, z: np.ndarray) -> Bureaus:
    """:func:`draw_bureaus` from its normal draws ``z`` (:func:`bureau_normals`)."""
    s, sk = params.reports_sigma, params.capacity_sigma
    lam = params.reports_mean * np.exp(s * z[0] - 0.5 * s * s)
    cap = params.capacity_ratio * lam * np.exp(sk * z[1] - 0.5 * sk * sk)
    return Bureaus(lam, cap)


def draw_reports(
    gen: np.random.Generator, mixing: np.random.Generator, lam: np.ndarray, dispersion: np.ndarray
) -> np.ndarray:
    """Poisson counts, or negative binomial (a Poisson-gamma mixture) where dispersion > 0."""
    dispersion = np.broadcast_to(dispersion, lam.shape)
    if dispersion.any():
        mixed = dispersion > 0
        shape = np.where(mixed, 1.0 / np.where(mixed, dispersion, 1.0), 1.0)
        lam = np.where(mixed, mixing.gamma(shape, lam * np.where(mixed, dispersion, 0.0)), lam)
    return gen.poisson(lam)
