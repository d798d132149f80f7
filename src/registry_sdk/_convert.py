"""The one cattrs converter: snake_case fields to the JSON names, and typed failures."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from registry_sdk._errors import InvalidResponse
from registry_sdk.models import TagList

T = TypeVar("T")

#: Field names whose JSON spelling is not plain camelCase.
_SPECIAL = {"os_version": "os.version", "os_features": "os.features"}


def _json_name(name: str) -> str:
    if name in _SPECIAL:
        return _SPECIAL[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(omit_if_default=True, forbid_extra_keys=False)

    def renames(cls: type[Any]) -> dict[str, Any]:
        return {f.name: override(rename=_json_name(f.name)) for f in attrs.fields(cls)}

    def structure_factory(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
        return make_dict_structure_fn(cls, conv, **renames(cls))

    def unstructure_factory(cls: type[Any]) -> Callable[[Any], Any]:
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True,
                                        **renames(cls))

    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    plain_tags = make_dict_structure_fn(TagList, conv)

    def tags_hook(value: Mapping[str, Any], _: type[TagList]) -> TagList:
        if value.get("tags") is None:  # "tags": null, or no "tags" at all
            value = {**value, "tags": []}
        return plain_tags(value, TagList)

    conv.register_structure_hook(TagList, tags_hook)
    return conv


converter = _make_converter()


def structure(data: Any, cls: type[T], what: str) -> T:  # noqa: ANN401 (JSON input)
    """Structure decoded JSON into *cls*; failures become InvalidResponse with paths."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        errors = tuple(cattrs.transform_error(exc))
        raise InvalidResponse(f"{what} does not have the expected shape: {'; '.join(errors)}",
                              what=what, errors=errors) from None


def loads(raw: bytes, cls: type[T], what: str) -> T:
    """Decode JSON bytes and structure them (see [structure][])."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidResponse(f"{what} is not valid JSON: {exc}", what=what) from None
    return structure(data, cls, what)


def unstructure(obj: object) -> Any:  # noqa: ANN401 (JSON output)
    """The JSON-ready form of a model (camelCase names, defaults omitted)."""
    return converter.unstructure(obj)
