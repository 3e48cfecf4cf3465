"""The normalised IMERG variable vocabulary and where each name lives in every version.

V07 files keep the final estimate and its error fields under ``Grid/`` and the inputs of
the merge under ``Grid/Intermediate/``; V06 and the older V03–V05 files keep everything
under ``Grid/`` with older names. :data:`IMERG_VARIABLES` maps one normalised name to both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImergVariable:
    """One normalised IMERG variable.

    Attributes:
        name: Normalised name (``mw_precipitation``).
        v07: Path in V07 files (``Grid/Intermediate/MWprecipitation``).
        v06: Path in V06 and older (V03–V05) files (``Grid/HQprecipitation``).
        units: Normalised units (``mm/h``, ``%``, ``min``, ``1``), or ``None`` for codes.
        long_name: CF ``long_name``.
        standard_name: CF ``standard_name`` where one exists.
        comment: Anything a user must know (semantics that changed between versions).
    """

    name: str
    v07: str
    v06: str
    units: str | None
    long_name: str
    standard_name: str | None = None
    comment: str = ""

    def attrs(self, source_variable: str) -> dict[str, str]:
        """CF-style attributes of this variable in a cube, read from ``source_variable``.

        Args:
            source_variable: The file variable(s) it was read from (e.g. ``Grid/precipitation``).

        Returns:
            ``long_name``, ``source_variable`` and, where defined, ``units``,
            ``standard_name`` and ``comment``.
        """
        attrs = {"long_name": self.long_name, "source_variable": source_variable}
        if self.units is not None:
            attrs["units"] = self.units
        if self.standard_name:
            attrs["standard_name"] = self.standard_name
        if self.comment:
            attrs["comment"] = self.comment
        return attrs

    def path(self, major_version: int) -> str:
        """The variable's path in a file of the given major version (3…7)."""
        return self.v07 if major_version >= 7 else self.v06


IMERG_VARIABLES: dict[str, ImergVariable] = {
    v.name: v
    for v in (
        ImergVariable(
            "precipitation",
            "Grid/precipitation",
            "Grid/precipitationCal",
            "mm/h",
            "merged microwave-infrared precipitation rate (gauge-calibrated in Final)",
            "lwe_precipitation_rate",
        ),
        ImergVariable(
            "precipitation_uncal",
            "Grid/Intermediate/precipitationUncal",
            "Grid/precipitationUncal",
            "mm/h",
            "merged microwave-infrared precipitation rate before gauge calibration",
            "lwe_precipitation_rate",
        ),
        ImergVariable(
            "random_error",
            "Grid/randomError",
            "Grid/randomError",
            "mm/h",
            "random error (root-mean-square) of the precipitation estimate",
        ),
        ImergVariable(
            "liquid_probability",
            "Grid/probabilityLiquidPrecipitation",
            "Grid/probabilityLiquidPrecipitation",
            "%",
            "probability that the precipitation is liquid",
        ),
        ImergVariable(
            "quality_index",
            "Grid/precipitationQualityIndex",
            "Grid/precipitationQualityIndex",
            "1",
            "precipitation quality index (0 = worst, 1 = best)",
        ),
        ImergVariable(
            "mw_precipitation",
            "Grid/Intermediate/MWprecipitation",
            "Grid/HQprecipitation",
            "mm/h",
            "merged passive-microwave precipitation rate (observed in this half hour)",
            "lwe_precipitation_rate",
        ),
        ImergVariable(
            "mw_source",
            "Grid/Intermediate/MWprecipSource",
            "Grid/HQprecipSource",
            None,
            "passive-microwave sensor code of the observation (0 = no observation)",
            comment="IMERG sensor code; 0 means no passive-microwave observation in the half hour.",
        ),
        ImergVariable(
            "mw_observation_time",
            "Grid/Intermediate/MWobservationTime",
            "Grid/HQobservationTime",
            "min",
            "time of the passive-microwave observation, in minutes after the half hour's start",
        ),
        ImergVariable(
            "ir_precipitation",
            "Grid/Intermediate/IRprecipitation",
            "Grid/IRprecipitation",
            "mm/h",
            "infrared precipitation rate",
            "lwe_precipitation_rate",
        ),
        ImergVariable(
            "ir_influence",
            "Grid/Intermediate/IRinfluence",
            "Grid/IRkalmanFilterWeight",
            "%",
            "relative influence of infrared precipitation in the merged estimate",
            comment="V07 IRinfluence is the relative influence of IR precipitation in the "
            "merged estimate. V06 and older hold IRkalmanFilterWeight instead: the weight "
            "given to IR in the Kalman filter of the morphing step, 0 where no IR was "
            "blended. Both are in percent, but they are not the same quantity: compare "
            "them across versions with care.",
        ),
    )
}
"""Normalised name → :class:`ImergVariable`, in the order of the documentation table."""
