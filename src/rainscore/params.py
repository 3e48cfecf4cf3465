"""Typed configuration from Kedro parameters: one way to parse a parameter section."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def dataclass_from_params(cls: type[T], params: Mapping[str, Any] | None, *, section: str) -> T:
    """Build the dataclass ``cls`` from a parameter mapping.

    Missing keys take the dataclass defaults; unknown keys are an error naming the section,
    so a typo in a YAML file never passes silently. Lists become tuples where the field's
    default is a tuple (YAML has no tuples).

    Args:
        cls: A dataclass type.
        params: The parameter section (``None`` means all defaults).
        section: Its name in the parameters, for the error message (``"ingestion"``).

    Returns:
        The instance.

    Raises:
        ValueError: On an unknown key (or an invalid value, from the dataclass itself).
    """
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ValueError(f"Unknown {section} parameters {unknown}; known: {sorted(fields)}")
    for name, value in params.items():
        default = fields[name].default
        if isinstance(value, list) and isinstance(default, tuple):
            params[name] = tuple(value)
    return cls(**params)
