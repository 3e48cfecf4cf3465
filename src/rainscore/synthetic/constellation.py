"""The passive-microwave (PMW) constellation of IMERG V07 and its overpasses over a box.

Ten satellites with their real sensors, IMERG sensor codes (``MWprecipSource``), altitudes,
inclinations, swath widths and (for the sun-synchronous ones) local times of the ascending
node in the 2020s. Orbits are circular around a spherical Earth:

* sun-synchronous satellites keep their ascending node at a fixed local solar time (right
  ascension of the node = that of the Sun + 15° per hour from noon);
* GPM (GMI) precesses with the J2 rate of its 65° orbit;
* the position of each satellite along its orbit at the world's origin is random (seeded):
  the real phasing is not modelled, so overpass times are realistic in local time and
  revisit statistics, not in calendar time.

A cell is seen when its distance to the sub-satellite track at closest approach is at most
half the swath; the time of that closest approach is the observation time.

Sensor codes follow IMERG V07 ``MWprecipSource`` (0 none, 1 TMI, 3 AMSR2, 4 SSMI, 5 SSMIS,
6 AMSU-B, 7 MHS, 9 GMI, 11 ATMS, …), as decoded by GPM-API
(``gpm/dataset/decoding/decode_imerg.py``) after the IMERG V07 technical documentation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0
_MU = 398600.4418  # km³/s²
_J2 = 1.08263e-3
_J2000 = np.datetime64("2000-01-01T12:00:00", "s")

SENSOR_CODES: dict[int, str] = {
    0: "none",
    1: "TMI",
    3: "AMSR2",
    4: "SSMI",
    5: "SSMIS",
    6: "AMSU-B",
    7: "MHS",
    9: "GMI",
    11: "ATMS",
    15: "AMSR-E",
    20: "SAPHIR",
}
"""IMERG V07 ``MWprecipSource`` codes (those of sensors flying in the 2020s and history)."""


@dataclass(frozen=True)
class Sensor:
    """A PMW sensor as IMERG sees it.

    Attributes:
        name: Sensor name.
        code: IMERG ``MWprecipSource`` code.
        kind: ``"imager"`` (conical scan) or ``"sounder"`` (cross-track).
        swath_km: Swath width.
        footprint_km: Effective resolution of its precipitation retrieval (Gaussian FWHM).
        noise_log_sd: Multiplicative retrieval noise (sd of ln).
        exponent: Retrievals scale as ``rate ** exponent`` around the crossing rate.
        quality: Expected correlation of its retrieval with the truth at 0.1°.
        priority: Lower is preferred when several sensors see a cell in a half hour.
    """

    name: str
    code: int
    kind: str
    swath_km: float
    footprint_km: float
    noise_log_sd: float
    exponent: float
    quality: float
    priority: int


GMI = Sensor("GMI", 9, "imager", 885.0, 12.0, 0.40, 0.85, 0.85, 0)
AMSR2 = Sensor("AMSR2", 3, "imager", 1450.0, 14.0, 0.45, 0.83, 0.80, 1)
SSMIS = Sensor("SSMIS", 5, "imager", 1700.0, 28.0, 0.50, 0.80, 0.72, 2)
MHS = Sensor("MHS", 7, "sounder", 2180.0, 24.0, 0.60, 0.75, 0.62, 3)
ATMS = Sensor("ATMS", 11, "sounder", 2500.0, 26.0, 0.60, 0.75, 0.62, 3)


@dataclass(frozen=True)
class Satellite:
    """A satellite on a circular orbit.

    Attributes:
        name: Platform name.
        sensor: Its PMW sensor.
        altitude_km: Orbit altitude.
        inclination_deg: Orbit inclination.
        ltan_h: Local solar time of the ascending node (sun-synchronous), or ``None`` for
            a precessing orbit.
    """

    name: str
    sensor: Sensor
    altitude_km: float
    inclination_deg: float
    ltan_h: float | None


CONSTELLATION: tuple[Satellite, ...] = (
    Satellite("GPM", GMI, 407.0, 65.0, None),
    Satellite("GCOM-W1", AMSR2, 700.0, 98.2, 13.5),
    Satellite("DMSP-F16", SSMIS, 850.0, 98.9, 16.3),
    Satellite("DMSP-F17", SSMIS, 850.0, 98.8, 17.4),
    Satellite("DMSP-F18", SSMIS, 850.0, 98.9, 18.6),
    Satellite("NOAA-19", MHS, 870.0, 99.2, 19.8),
    Satellite("MetOp-B", MHS, 817.0, 98.7, 21.5),
    Satellite("MetOp-C", MHS, 817.0, 98.7, 21.5),
    Satellite("Suomi-NPP", ATMS, 824.0, 98.7, 13.4),
    Satellite("NOAA-20", ATMS, 824.0, 98.7, 13.4),
)
"""The PMW constellation of the synthetic IMERG (ten satellites, real sensors and orbits)."""


def _days_since_j2000(t_s: np.ndarray, origin: np.datetime64) -> np.ndarray:
    offset = (origin - _J2000) / np.timedelta64(1, "s")
    return (np.asarray(t_s, float) + offset) / 86400.0


def _sun_right_ascension(d: np.ndarray) -> np.ndarray:
    """Right ascension of the Sun (radians), low-precision formula (< 0.01°)."""
    g = np.radians(357.529 + 0.98560028 * d)
    q = 280.459 + 0.98564736 * d
    lam = np.radians(q + 1.915 * np.sin(g) + 0.020 * np.sin(2 * g))
    eps = np.radians(23.439 - 0.00000036 * d)
    return np.arctan2(np.cos(eps) * np.sin(lam), np.cos(lam))


def _gmst(d: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (radians)."""
    return np.radians((280.46061837 + 360.98564736629 * d) % 360.0)


@dataclass(frozen=True)
class Orbit:
    """A satellite's orbit with a phase: gives its sub-satellite point at any time.

    Attributes:
        satellite: The satellite.
        origin: Time origin (``datetime64[s]``) of the ``t`` arguments (seconds).
        phase: Argument of latitude at the origin (radians).
        raan0: Right ascension of the ascending node at the origin for a precessing orbit.
    """

    satellite: Satellite
    origin: np.datetime64
    phase: float
    raan0: float

    @property
    def mean_motion(self) -> float:
        """Angular rate along the orbit, rad/s."""
        a = EARTH_RADIUS_KM + self.satellite.altitude_km
        return float(np.sqrt(_MU / a**3))

    def subpoint(self, t_s: np.ndarray) -> np.ndarray:
        """Unit vectors (…, 3) of the sub-satellite points in the Earth-fixed frame."""
        sat = self.satellite
        d = _days_since_j2000(t_s, self.origin)
        inc = np.radians(sat.inclination_deg)
        if sat.ltan_h is not None:
            raan = _sun_right_ascension(d) + np.radians(15.0 * (sat.ltan_h - 12.0))
        else:
            a = EARTH_RADIUS_KM + sat.altitude_km
            rate = -1.5 * self.mean_motion * _J2 * (6378.137 / a) ** 2 * np.cos(inc)
            raan = self.raan0 + rate * np.asarray(t_s, float)
        u = self.phase + self.mean_motion * np.asarray(t_s, float)
        x = np.cos(raan) * np.cos(u) - np.sin(raan) * np.sin(u) * np.cos(inc)
        y = np.sin(raan) * np.cos(u) + np.cos(raan) * np.sin(u) * np.cos(inc)
        z = np.sin(u) * np.sin(inc)
        lon = np.arctan2(y, x) - _gmst(d)
        lat = np.arcsin(np.clip(z, -1.0, 1.0))
        return _unit(lon, lat)


def _unit(lon_rad: np.ndarray, lat_rad: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.cos(lat_rad) * np.cos(lon_rad), np.cos(lat_rad) * np.sin(lon_rad), np.sin(lat_rad)],
        axis=-1,
    )


@dataclass(frozen=True)
class Overpasses:
    """Every PMW observation of the cells of a box.

    One row per (pass, cell) seen. Times are seconds since the world's time origin.

    Attributes:
        time: Observation time of each event (s), float64, sorted.
        cell: Flat cell index (row-major over (lat, lon)) of each event.
        satellite: Index into the constellation of each event.
        pass_id: Index of the pass each event belongs to.
    """

    time: np.ndarray
    cell: np.ndarray
    satellite: np.ndarray
    pass_id: np.ndarray

    def between(self, t0: float, t1: float) -> slice:
        """Slice of the events with ``t0 <= time < t1``."""
        i0, i1 = np.searchsorted(self.time, [t0, t1], side="left")
        return slice(int(i0), int(i1))


def make_orbits(
    satellites: tuple[Satellite, ...], origin: np.datetime64, rng: np.random.Generator
) -> list[Orbit]:
    """Orbits with random phases (and node for precessing orbits)."""
    return [
        Orbit(sat, origin, float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
        for sat in satellites
    ]


def compute_overpasses(
    orbits: list[Orbit],
    cell_lon: np.ndarray,
    cell_lat: np.ndarray,
    t0: float,
    t1: float,
) -> Overpasses:
    """All observations of the cells between ``t0`` and ``t1`` (seconds since the origin).

    Args:
        orbits: The satellites' orbits.
        cell_lon: Longitudes of the cells (flat), degrees.
        cell_lat: Latitudes of the cells (flat), degrees.
        t0: Start, s.
        t1: End, s.

    Returns:
        The overpass events, sorted by time.
    """
    cells = _unit(np.radians(cell_lon), np.radians(cell_lat))  # (n, 3)
    centre = cells.mean(axis=0)
    centre /= np.linalg.norm(centre)
    radius = float(np.max(np.arccos(np.clip(cells @ centre, -1, 1))))
    times, cell_ids, sats, passes = [], [], [], []
    n_pass = 0
    step = 20.0
    for s, orbit in enumerate(orbits):
        reach = radius + orbit.satellite.sensor.swath_km / 2.0 / EARTH_RADIUS_KM + 0.02
        t = np.arange(t0 - 600.0, t1 + 600.0, step)
        dist = np.arccos(np.clip(orbit.subpoint(t) @ centre, -1, 1))
        minima = np.flatnonzero((dist[1:-1] <= dist[:-2]) & (dist[1:-1] < dist[2:])) + 1
        for m in minima[dist[minima] < reach]:
            # Closest approach of each cell: first guess from the along-track angle on the
            # great circle tangent to the track at the pass centre, then two refinements by
            # projecting the cell on the track between the nearest 5 s samples.
            ts = t[m] + np.arange(-600.0, 600.0 + 1e-6, 5.0)
            track = orbit.subpoint(ts)  # (m, 3)
            mid = len(ts) // 2
            tangent = track[mid + 1] - track[mid - 1]
            omega = np.linalg.norm(tangent) / 10.0
            tangent -= (tangent @ track[mid]) * track[mid]
            tangent /= np.linalg.norm(tangent)
            tc = ts[mid] + np.arctan2(cells @ tangent, cells @ track[mid]) / omega
            for _ in range(2):
                j = np.clip(np.rint((tc - ts[0]) / 5.0).astype(int), 1, len(ts) - 2)
                step_vec = track[j + 1] - track[j - 1]
                frac = np.einsum("ij,ij->i", cells - track[j], step_vec)
                frac /= np.einsum("ij,ij->i", step_vec, step_vec)
                tc = ts[j] + 10.0 * frac
            p = track[j] + frac[:, None] * step_vec
            p /= np.linalg.norm(p, axis=1, keepdims=True)
            cross_km = np.arccos(np.clip(np.einsum("ij,ij->i", cells, p), -1, 1))
            cross_km *= EARTH_RADIUS_KM
            seen = (cross_km <= orbit.satellite.sensor.swath_km / 2.0) & (tc >= t0) & (tc < t1)
            if not seen.any():
                continue
            idx = np.flatnonzero(seen)
            times.append(tc[idx])
            cell_ids.append(idx.astype(np.int32))
            sats.append(np.full(len(idx), s, dtype=np.int8))
            passes.append(np.full(len(idx), n_pass, dtype=np.int32))
            n_pass += 1
    if not times:
        empty = np.empty(0)
        return Overpasses(empty, empty.astype(np.int32), empty.astype(np.int8), empty.astype(int))
    time = np.concatenate(times)
    order = np.argsort(time, kind="stable")
    return Overpasses(
        time=time[order],
        cell=np.concatenate(cell_ids)[order],
        satellite=np.concatenate(sats)[order],
        pass_id=np.concatenate(passes)[order],
    )
