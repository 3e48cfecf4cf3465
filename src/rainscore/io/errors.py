"""The one exception raised by the readers when a file cannot be trusted."""

from __future__ import annotations

from os import PathLike

#: The short codes the readers use for :attr:`ReaderError.reason` (stable, for reports).
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
    "bad_window",
    "corrupt_data",
)


class ReaderError(ValueError):
    """A raw file is unusable: its message names the file and what is wrong with it.

    Args:
        path: The file at fault.
        reason: A short code for inventories and ingestion reports; the readers use those
            of :data:`REASONS` (``"empty"``, ``"missing_group"``, …).
        detail: What is wrong, naming the group, variable or attribute and its value.

    Attributes:
        path: The file at fault, as a string.
        reason: The short code.
        detail: The message without the file name.
    """

    def __init__(self, path: str | PathLike, reason: str, detail: str) -> None:
        self.path = str(path)
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.path}: {detail}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.detail))
