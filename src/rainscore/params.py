"""Typed configuration from Kedro parameters: one way to parse a parameter section."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_SCALARS: dict[type, tuple[str, tuple[type, ...]]] = {
    bool: ("a bool", (bool,)),
    int: ("an integer", (int,)),
    float: ("a number", (int, float)),
    str: ("a string", (str,)),
}


def _scalar_ok(kind: type, value: Any) -> bool:
    return isinstance(value, _SCALARS[kind][1]) and (kind is bool or not isinstance(value, bool))


def _type_problem(hint: Any, value: Any) -> str | None:
    """What ``value`` should be if it does not match ``hint`` (``None`` when it does).

    Checked: ``bool``, ``int``, ``float`` (an int is a number; a bool is neither),
    ``str``, ``tuple[X, ...]`` of those, and their unions with ``None``. Other hints (nested
    configs, mappings) are left to the dataclass.
    """
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            return None
        hint = args[0]
    if value is None and optional:
        return None
    suffix = " or null" if optional else ""
    if hint in _SCALARS:
        return None if _scalar_ok(hint, value) else _SCALARS[hint][0] + suffix
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item not in _SCALARS:
            return None
        if isinstance(value, list | tuple) and all(_scalar_ok(item, v) for v in value):
            return None
        return f"a list of {_SCALARS[item][0].split(' ', 1)[1]}s{suffix}"
    return None


def _is_tuple(hint: Any, default: Any) -> bool:
    """Whether a field holds a tuple (its default is one, or its type, optional or not)."""
    if isinstance(default, tuple):
        return True
    hints = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )
    return any(typing.get_origin(h) is tuple for h in hints)


def dataclass_from_params(cls: type[T], params: Mapping[str, Any] | None, *, section: str) -> T:
    """Build the dataclass ``cls`` from a parameter mapping.

    Missing keys take the dataclass defaults; unknown keys are an error naming the section,
    so a typo in a YAML file never passes silently. Values are checked against the fields'
    types (bool, int, float, str, tuples of those, optional or not: ``strict: "yes"`` is an
    error, ``rate: 3`` a number). Lists become tuples where the field's default is a tuple
    (YAML has no tuples).

    Args:
        cls: A dataclass type.
        params: The parameter section (``None`` means all defaults).
        section: Its name in the parameters, for the error message (``"ingestion"``).

    Returns:
        The instance.

    Raises:
        ValueError: On an unknown key, a value of the wrong type (both named
            ``section.key`` with the value), or an invalid value (from the dataclass).
    """
    if params is not None and not isinstance(params, Mapping):
        raise ValueError(f"{section} must be a mapping of parameters, got {params!r}")
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        close = [m for key in unknown for m in difflib.get_close_matches(key, fields, n=1)]
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ValueError(f"Unknown {section} parameters {unknown}{hint}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    for name, value in params.items():
        expected = _type_problem(hints[name], value)
        if expected is not None:
            raise ValueError(f"{section}.{name} must be {expected}, got {value!r}")
        if isinstance(value, list) and _is_tuple(hints[name], fields[name].default):
            params[name] = tuple(value)
    return cls(**params)
