"""The one exception raised by the readers when a file cannot be trusted."""

from __future__ import annotations

from os import PathLike

#: Short codes for :attr:`ReaderError.reason`, stable enough for reports and tables.
REASONS = (
    "bad_name",
    "empty",
    "unreadable",
    "missing_group",
    "missing_variable",
    "missing_attribute",
    "unknown_version",
    "unknown_format",
    "unknown_quantity",
    "inconsistent",
    "time_mismatch",
    "grid_mismatch",
    "outside_box",
)


class ReaderError(ValueError):
    """A raw file is unusable: its message names the file and what is wrong with it.

    Args:
        path: The file at fault.
        reason: One of :data:`REASONS` (``"empty"``, ``"missing_group"``, …), a short code
            for inventories and ingestion reports.
        detail: What is wrong, naming the group, variable or attribute and its value.

    Attributes:
        path: The file at fault, as a string.
        reason: The short code.
        detail: The message without the file name.
    """

    def __init__(self, path: str | PathLike, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"Unknown ReaderError reason {reason!r}; use one of {REASONS}")
        self.path = str(path)
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.path}: {detail} [{reason}]")

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.detail))
