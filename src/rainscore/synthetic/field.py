"""A Gaussian random field with a power-law spectrum, advected and evolving in time.

Each Fourier mode ``k`` of the field is an AR(1) process in the Lagrangian frame:

    Z_k(t + dt) = φ_k · exp(−2πi k·d) · Z_k(t) + sqrt(1 − φ_k²) · ε_k,

where ``d`` is the displacement (pixels) of the uniform wind over ``dt`` (advection is a
phase shift, exact for a uniform wind), ``φ_k = exp(−dt / τ(L))`` with the lifetime
``τ(L) = τ10 · (L / 10 km)^α`` of structures of size ``L = 1/|k|``: small scales
decorrelate in minutes, large ones in hours. The field is ``irfft2(A_k Z_k)`` with the
amplitude ``A_k = sqrt(P(|k|))`` of a two-slope power spectrum (:class:`Spectrum`: ``|k|^−β``
at small scales, shallower above a break, flat above an outer scale), normalised to unit
variance; one inverse FFT per frame.

The innovations ``ε_k`` are uniform on the odd integers of [−255, 255] (random bytes, ten
times cheaper than normal draws) scaled to unit variance; the field, a sum of half a million
modes, is Gaussian all the same.

The domain is periodic; it is padded beyond the radar window so that what leaves the window
on one side does not re-enter on the other within the decorrelation time of large scales.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft

# A random byte b read as int8 gives 2b + 1, uniform on the odd integers of [-255, 255]:
# mean 0, variance (256² − 1)/3. Scale each of the real and imaginary parts to variance 1/2
# so that E|ε|² = 1.
_BYTE_SCALE = np.sqrt(0.5 / ((256.0**2 - 1.0) / 3.0))
_CACHE_SIZE = 24


@dataclass(frozen=True)
class Spectrum:
    """A two-slope power spectrum with an outer scale.

    ``P(k) = (k² + k_o²)^(−β_L/2)`` below the break wavenumber ``k_b`` and continues as
    ``∝ k^−β`` above it (``k`` in cycles per km, ``k_o = 1/outer``, ``k_b = 1/break``).

    Attributes:
        slope: β, small-scale slope.
        large_scale_slope: β_L, slope between the break and the outer scale.
        break_km: Scale of the break.
        outer_scale_km: Scale above which the spectrum flattens.
    """

    slope: float
    large_scale_slope: float
    break_km: float
    outer_scale_km: float

    def key(self) -> tuple[int, int, int, int]:
        """Quantised identity (slopes to 0.05, scales to 5 %) for caching."""
        return (
            round(self.slope * 20),
            round(self.large_scale_slope * 20),
            round(np.log(max(self.break_km, 0.1)) * 20),
            round(np.log(max(self.outer_scale_km, 0.1)) * 20),
        )

    @classmethod
    def from_key(cls, key: tuple[int, int, int, int]) -> Spectrum:
        """The spectrum a quantised key stands for."""
        return cls(key[0] / 20, key[1] / 20, float(np.exp(key[2] / 20)), float(np.exp(key[3] / 20)))

    def power(self, k: np.ndarray) -> np.ndarray:
        """``P(k)`` (unnormalised) at wavenumbers ``k`` (cycles per km)."""
        k_o, k_b = 1.0 / self.outer_scale_km, 1.0 / self.break_km
        large = (k * k + k_o * k_o) ** (-self.large_scale_slope / 2.0)
        at_break = (k_b * k_b + k_o * k_o) ** (-self.large_scale_slope / 2.0)
        small = at_break * (np.maximum(k, 1e-12) / k_b) ** (-self.slope)
        return np.where(k <= k_b, large, small)


class SpectralField:
    """The evolving Gaussian field on a periodic ``shape`` of square pixels.

    Args:
        shape: ``(ny, nx)`` of the periodic domain (pixels).
        pixel_km: Pixel size, km.
        lifetime_exponent: ``α`` of the lifetime law.
        rng: Random generator (owned by the field afterwards).
        workers: Threads of the inverse FFT.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        pixel_km: float,
        lifetime_exponent: float,
        rng: np.random.Generator,
        workers: int = 2,
    ) -> None:
        ny, nx = shape
        self.shape = (ny, nx)
        self.pixel_km = pixel_km
        self.lifetime_exponent = lifetime_exponent
        self.rng = rng
        self.workers = workers
        self._fy = np.fft.fftfreq(ny).astype(np.float32)  # cycles per pixel (rows, southward)
        self._fx = np.fft.rfftfreq(nx).astype(np.float32)  # cycles per pixel (columns, east)
        k = np.hypot(self._fy[:, None], self._fx[None, :]) / pixel_km  # cycles per km
        self._k = k.astype(np.float32)
        # Weight of each half-spectrum entry in the field variance: interior columns stand
        # for themselves and their conjugate mirror.
        w = np.full(k.shape, 2.0, dtype=np.float64)
        w[:, 0] = 1.0
        if nx % 2 == 0:
            w[:, -1] = 1.0
        self._variance_weight = w
        self._amp_cache: OrderedDict[tuple[int, int, int, int], np.ndarray] = OrderedDict()
        self._phi_cache: OrderedDict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = (
            OrderedDict()
        )
        self.state = np.zeros(k.shape, dtype=np.complex64)
        self._state_parts = self.state.view(np.float32).reshape(*k.shape, 2)
        self._add_innovation(np.full((*k.shape, 2), _BYTE_SCALE, dtype=np.float32))

    def _add_innovation(self, coef: np.ndarray) -> None:
        """Add complex white noise: ``coef × (2b + 1)`` to each real and imaginary part.

        ``b`` are random bytes read as int8, so ``2b + 1`` is uniform on the odd integers of
        [−255, 255] (mean 0); ``coef`` carries the unit-variance scale.
        """
        raw = np.frombuffer(self.rng.bytes(coef.size), dtype=np.int8).reshape(coef.shape)
        self._state_parts += np.multiply(raw, 2.0 * coef, dtype=np.float32)
        self._state_parts += coef

    def amplitude(self, spectrum: Spectrum) -> np.ndarray:
        """Unit-variance spectral amplitude ``sqrt(P(k))`` (LRU-cached).

        Slopes are quantised to 0.05 and scales to 5 % (log steps), so that slowly blending
        regimes reuse the cache.
        """
        key = spectrum.key()
        amp = _cached(self._amp_cache, key)
        if amp is None:
            amp = np.sqrt(Spectrum.from_key(key).power(self._k.astype(np.float64)))
            amp[0, 0] = 0.0
            n = self.shape[0] * self.shape[1]
            variance = float(np.sum(self._variance_weight * amp * amp)) / n**2
            amp = (amp / np.sqrt(variance)).astype(np.float32)
            _store(self._amp_cache, key, amp)
        return amp

    def persistence(self, lifetime_10km_min: float, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """``φ`` per mode and the innovations' scale for a 10 km lifetime (LRU-cached).

        Lifetimes are quantised to 5 % (log steps) so that slowly blending regimes reuse
        the cache.

        Returns:
            ``(φ, c)``: ``φ`` (ny, nx//2 + 1) and ``c = sqrt(1 − φ²) × scale`` repeated for
            the real and imaginary parts (ny, nx//2 + 1, 2), float32.
        """
        key = (round(np.log(max(lifetime_10km_min, 0.1)) * 20), float(dt_s))
        cached = _cached(self._phi_cache, key)
        if cached is None:
            size_km = 1.0 / np.maximum(self._k.astype(np.float64), 1e-6)
            tau_s = np.exp(key[0] / 20) * 60.0 * (size_km / 10.0) ** self.lifetime_exponent
            phi = np.exp(-dt_s / tau_s)
            coef = np.sqrt(1.0 - phi * phi) * _BYTE_SCALE
            cached = (
                phi.astype(np.float32),
                np.repeat(coef[..., None], 2, axis=-1).astype(np.float32),
            )
            _store(self._phi_cache, key, cached)
        return cached

    def step(
        self,
        dt_s: float,
        shift_rows: float,
        shift_cols: float,
        lifetime_10km_min: float,
    ) -> None:
        """Advance the modes by ``dt_s``: advect by (rows, cols) pixels and evolve."""
        self.state *= np.exp(-2j * np.pi * self._fy * shift_rows).astype(np.complex64)[:, None]
        self.state *= np.exp(-2j * np.pi * self._fx * shift_cols).astype(np.complex64)[None, :]
        phi, innovation = self.persistence(lifetime_10km_min, dt_s)
        self.state *= phi
        self._add_innovation(innovation)

    def field(self, spectrum: Spectrum) -> np.ndarray:
        """The current field (unit variance, float32, ``shape``) for the given spectrum."""
        modes = self.state * self.amplitude(spectrum)
        return scipy.fft.irfft2(modes, s=self.shape, workers=self.workers)


def _cached(cache: OrderedDict, key: Any) -> Any:
    """LRU lookup: the value for ``key`` (marked most recent), or ``None``."""
    value = cache.get(key)
    if value is not None:
        cache.move_to_end(key)
    return value


def _store(cache: OrderedDict, key: Any, value: Any) -> None:
    """LRU insert, evicting the least recently used entries beyond ``_CACHE_SIZE``."""
    cache[key] = value
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
