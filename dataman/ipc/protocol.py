"""The control protocol's messages as classes: strict encode/decode of the wire format.

The service builds these objects and the control socket encodes them; the
console, the demo and ``dataman health`` decode each message once and read
attributes. So the wire format is written down once, here (and in
``protocol_snapshot.py`` / ``protocol_events.py``), and a test fixture built
from the same classes cannot drift from what the service sends.

Decoding is strict where it matters to a reader: a missing field, or one of the
wrong JSON type, raises :class:`ProtocolError` naming it
(``snapshot.workers[1].pid: expected int, got str``). A field this side does not
know is ignored, so a service may add one without breaking an older console of
the same major ``PROTOCOL_VERSION``; a field added that way has a default, which
a message from an older service without it takes. Anything else needs a new
version, which a client reports as such
(:class:`dataman.ipc.control.ProtocolVersionError`).

Mapping JSON to fields follows the type hints: ``int``, ``float`` (an integer is
accepted), ``str``, ``bool``, ``X | None``, ``tuple[X, ...]`` (a JSON array),
``dict[str, X]`` (an object), a :class:`~enum.StrEnum` (its value, a string: one
the enum does not have is an error listing those it has), and nested :class:`Wire`
classes or plain dataclasses (an object of their fields), such as the frame's
facts of :mod:`dataman.core.facts`, which the wire's frame entry extends.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Point(Wire):
...     x: float
...     label: str | None
>>> Point.from_dict({"x": 1, "label": None, "extra": True})
Point(x=1.0, label=None)
>>> Point.from_dict({"x": "1"}, where="point")
Traceback (most recent call last):
...
dataman.ipc.protocol.ProtocolError: point.x: expected float, got str
>>> from dataman.ipc.states import Result
>>> from_json(Result, "ok", "frame.result") is Result.OK
True
>>> from_json(Result, "lost", "frame.result")
Traceback (most recent call last):
...
dataman.ipc.protocol.ProtocolError: frame.result: 'lost' is not one of ok, warning, waiting, failed
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Hashable
from enum import Enum, StrEnum
from functools import cache
from typing import Any, ClassVar, TypeVar, get_args, get_origin

from dataman.core.errors import DataManError

W = TypeVar("W", bound="Wire")
T = TypeVar("T")


class ProtocolError(DataManError):
    """A control message that does not match its class; the message names the field."""


class Wire:
    """A frozen dataclass that crosses the control socket as a JSON object."""

    #: Fields this class has (from a core type it extends) that are not sent: they keep
    #: their defaults on the receiving side, and the wire stays as its version has it.
    not_sent: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this message (tuples become lists, enums their values)."""
        return _fields_to_json(self)

    @classmethod
    def from_dict(cls: type[W], data: object, *, where: str = "") -> W:
        """The message in ``data``; ProtocolError if a field is missing or mistyped."""
        return _dataclass_from_json(cls, data, where or cls.__name__)


def to_json(value: Any) -> Any:
    """``value`` as JSON-ready builtins."""
    if isinstance(value, Wire) or (dataclasses.is_dataclass(value)
                                   and not isinstance(value, type)):
        return _fields_to_json(value)
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def _fields_to_json(value: Any) -> dict[str, Any]:
    skipped = value.not_sent if isinstance(value, Wire) else frozenset()
    return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
            if f.name not in skipped}


def _dataclass_from_json(cls: type[T], data: object, where: str) -> T:
    """The dataclass ``cls`` (a Wire class or a plain one) from the JSON object ``data``."""
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}: expected an object, got {_json_name(data)}")
    values = {}
    optional = optional_fields(cls)
    skipped = cls.not_sent if issubclass(cls, Wire) else frozenset()
    for name, hint in field_hints(cls).items():
        if name in skipped:
            continue
        if name not in data:
            if name in optional:  # added later: an older sender leaves it out
                continue
            raise ProtocolError(f"{where}.{name}: missing")
        values[name] = from_json(hint, data[name], f"{where}.{name}")
    return cls(**values)


def from_json(hint: Any, value: object, where: str) -> Any:
    """``value`` checked against (and converted to) the type ``hint``."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return from_json(inner, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError(f"{where}: expected an array, got {_json_name(value)}")
        item_hint = get_args(hint)[0]
        return tuple(from_json(item_hint, item, f"{where}[{index}]")
                     for index, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where}: expected an object, got {_json_name(value)}")
        item_hint = get_args(hint)[1]
        return {key: from_json(item_hint, item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return _member(hint, value, where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_from_json(hint, value, where)
    return _scalar(hint, value, where)


def _member(enum: type[StrEnum], value: object, where: str) -> StrEnum:
    """The member of ``enum`` whose value is ``value``; a value it does not have is an
    error naming those it has (a newer sender's word is a new protocol version)."""
    if not isinstance(value, str):
        raise ProtocolError(f"{where}: expected str, got {_json_name(value)}")
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ProtocolError(f"{where}: {value!r} is not one of {allowed}") from None


def _scalar(hint: type, value: object, where: str) -> object:
    if hint is float and type(value) is int:
        return float(value)
    if type(value) is not hint:  # bool is not an int here, nor an int a str
        raise ProtocolError(f"{where}: expected {hint.__name__}, got {_json_name(value)}")
    return value


def _json_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return "an array" if isinstance(value, list) else type(value).__name__


def field_hints(cls: type) -> dict[str, Any]:
    """The resolved type of each field of the dataclass ``cls``."""
    return _field_hints(cls)


def optional_fields(cls: type) -> frozenset[str]:
    """The fields of the dataclass ``cls`` with a default: ones added within a protocol
    version, which a message from an older sender may leave out."""
    return _optional_fields(cls)


@cache
def _optional_fields(cls: Hashable) -> frozenset[str]:
    assert isinstance(cls, type)
    return frozenset(f.name for f in dataclasses.fields(cls)
                     if f.default is not dataclasses.MISSING
                     or f.default_factory is not dataclasses.MISSING)


@cache
def _field_hints(cls: Hashable) -> dict[str, Any]:
    assert isinstance(cls, type)
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
