"""The one cattrs converter: snake_case fields to the JSON names, and typed failures.

Names are camelCase (`media_type` is `mediaType`) unless listed in `_NAMES`: the OCI
spec's dotted names and Go's image-config spellings (`Env`, `WorkingDir`, `diff_ids`).
A JSON `null` reads as an absent field (Docker writes `"Env": null`); strings, integers
and booleans must be exactly those JSON types (no `"5"` for 5, no `"false"` for True).
Output keys follow `_ORDER` (the OCI spec's order, which is Go's struct order) and
mapping keys are sorted, so the same model always serialises to the same bytes.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from registry_sdk._errors import InvalidResponse
from registry_sdk.models import (
    ContainerConfig,
    Descriptor,
    History,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    RootFS,
)

T = TypeVar("T")

#: Field names whose JSON spelling is not plain camelCase, for every class.
_SPECIAL = {"os_version": "os.version", "os_features": "os.features"}
#: Per-class JSON names (Go's spellings in image configs).
_NAMES: dict[type[Any], dict[str, str]] = {
    ContainerConfig: {
        "user": "User",
        "env": "Env",
        "entrypoint": "Entrypoint",
        "cmd": "Cmd",
        "working_dir": "WorkingDir",
        "labels": "Labels",
        "exposed_ports": "ExposedPorts",
        "volumes": "Volumes",
        "stop_signal": "StopSignal",
    },
    RootFS: {"diff_ids": "diff_ids"},
    History: {"created_by": "created_by", "empty_layer": "empty_layer"},
}
#: Fields written even when empty: the spec requires them.
_ALWAYS: dict[type[Any], tuple[str, ...]] = {
    ImageManifest: ("layers",),
    ImageIndex: ("manifests",),
    ImageConfig: ("rootfs",),
    RootFS: ("type", "diff_ids"),
}
#: Key order of the output (fields not listed follow in field order).
_ORDER: dict[type[Any], tuple[str, ...]] = {
    ImageManifest: (
        "schemaVersion",
        "mediaType",
        "artifactType",
        "config",
        "layers",
        "subject",
        "annotations",
    ),
    ImageIndex: (
        "schemaVersion",
        "mediaType",
        "artifactType",
        "manifests",
        "subject",
        "annotations",
    ),
    Descriptor: (
        "mediaType",
        "digest",
        "size",
        "urls",
        "annotations",
        "data",
        "platform",
        "artifactType",
    ),
}
#: Fields that are JSON objects used as sets (`{"80/tcp": {}}`), kept as their keys.
_KEY_SETS = {ContainerConfig: ("exposed_ports", "volumes")}

# RFC 3339 as Go writes it: up to nine fractional digits, `Z` or an offset.
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})?"
)


def _json_name(cls: type[Any], name: str) -> str:
    if name in _NAMES.get(cls, {}):
        return _NAMES[cls][name]
    if name in _SPECIAL:
        return _SPECIAL[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_time(value: object) -> datetime.datetime:
    """An RFC 3339 time as Go writes it, timezone aware (no zone reads as UTC).

    Go writes up to nine fractional digits; `fromisoformat` (Python 3.11 and later)
    reads any number and keeps microseconds, dropping the rest, as documented.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 time string, not {type(value).__name__}")
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    frac = f".{match['frac']}" if match["frac"] else ""
    zone = match["zone"] or "Z"
    zone = "+00:00" if zone in "Zz" else zone
    return datetime.datetime.fromisoformat(f"{match['date']}T{match['time']}{frac}{zone}")


def format_time(value: datetime.datetime) -> str:
    """Go's RFC 3339 with nanoseconds: trailing fractional zeros trimmed, `Z` for UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    text = value.isoformat()  # YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM
    base, rest = text[:19], text[19:]
    frac, zone = (rest[1:7].rstrip("0"), rest[7:]) if rest.startswith(".") else ("", rest)
    return base + (f".{frac}" if frac else "") + ("Z" if zone == "+00:00" else zone)


def _keys(value: object) -> tuple[str, ...]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a JSON object used as a set, not {type(value).__name__}")
    return tuple(str(k) for k in value)


def _as_set(value: tuple[str, ...]) -> dict[str, Any]:
    return {k: {} for k in value}


def _exactly(kind: type[Any]) -> Callable[[Any, type[Any]], Any]:
    # cattrs' default hooks call str(), int(), bool() on anything: "size": "5" would
    # read as 5 and "empty_layer": "false" as True. JSON types are kept exact instead.
    def hook(value: Any, _: type[Any]) -> Any:  # noqa: ANN401 (JSON input)
        if type(value) is not kind:
            raise TypeError(f"expected a JSON {kind.__name__}, not {type(value).__name__}")
        return value

    return hook


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(omit_if_default=True, forbid_extra_keys=False)

    def overrides(cls: type[Any]) -> dict[str, Any]:
        always = _ALWAYS.get(cls, ())
        key_sets = _KEY_SETS.get(cls, ())
        out: dict[str, Any] = {}
        for f in attrs.fields(cls):
            extra: dict[str, Any] = {}
            if f.name in always:
                extra["omit_if_default"] = False
            if f.name in key_sets:
                extra.update(struct_hook=lambda v, _: _keys(v), unstruct_hook=_as_set)
            out[f.name] = override(rename=_json_name(cls, f.name), **extra)
        return out

    def structure_factory(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
        plain = make_dict_structure_fn(cls, conv, **overrides(cls))
        with_default = {
            _json_name(cls, f.name) for f in attrs.fields(cls) if f.default is not attrs.NOTHING
        }

        def hook(value: Any, target: type[Any]) -> Any:  # noqa: ANN401 (JSON input)
            # A null where a default exists reads as absent (Docker's "Env": null).
            if isinstance(value, Mapping) and any(value.get(k, 0) is None for k in with_default):
                value = {k: v for k, v in value.items() if not (v is None and k in with_default)}
            return plain(value, target)

        return hook

    def unstructure_factory(cls: type[Any]) -> Callable[[Any], Any]:
        plain = make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **overrides(cls))
        order = _ORDER.get(cls)
        if order is None:
            return plain

        def ordered(value: Any) -> dict[str, Any]:  # noqa: ANN401 (any model)
            data: dict[str, Any] = plain(value)
            first = {k: data[k] for k in order if k in data}
            return {**first, **{k: v for k, v in data.items() if k not in first}}

        return ordered

    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    for kind in (str, int, bool):
        conv.register_structure_hook(kind, _exactly(kind))
    conv.register_structure_hook(datetime.datetime, lambda v, _: parse_time(v))
    conv.register_unstructure_hook(datetime.datetime, format_time)
    conv.register_unstructure_hook_func(
        lambda t: t == Mapping[str, str], lambda m: {str(k): m[k] for k in sorted(m)}
    )
    return conv


converter = _make_converter()


def _use_json_names(exc: cattrs.BaseValidationError) -> None:
    """Rename the attribute notes cattrs attaches, so error paths are JSON paths."""
    cls = exc.cl if isinstance(exc, cattrs.ClassValidationError) else None
    for sub in exc.exceptions:
        notes = getattr(sub, "__notes__", [])
        sub.__notes__ = [
            AttributeValidationNote(str(n), _json_name(cls, n.name), n.type)
            if cls is not None and attrs.has(cls) and isinstance(n, AttributeValidationNote)
            else n
            for n in notes
        ]
        if isinstance(sub, cattrs.BaseValidationError):
            _use_json_names(sub)


def structure(data: Any, cls: type[T], what: str) -> T:  # noqa: ANN401 (JSON input)
    """Structure decoded JSON into *cls*; failures become InvalidResponse with paths."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            _use_json_names(exc)
        errors = tuple(cattrs.transform_error(exc))
        raise InvalidResponse(
            f"{what} does not have the expected shape: {'; '.join(errors)}",
            what=what,
            errors=errors,
        ) from None


def loads(raw: bytes, cls: type[T], what: str) -> T:
    """Decode JSON bytes and structure them (see [structure][])."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidResponse(f"{what} is not valid JSON: {exc}", what=what) from None
    return structure(data, cls, what)


def unstructure(obj: object) -> Any:  # noqa: ANN401 (JSON output)
    """The JSON-ready form of a model (JSON names, defaults omitted, keys in order)."""
    return converter.unstructure(obj)
