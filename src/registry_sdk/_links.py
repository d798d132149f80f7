"""RFC 8288 `Link` header parsing, for `rel="next"` pagination."""

from __future__ import annotations

from collections.abc import Iterable

#: Link headers longer than this are ignored (security rule 5).
MAX_LINK_LENGTH = 16 * 1024


def parse_links(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse `<url>; rel="next"; x=y, <url2>; ...` into (url, params) pairs.

    Malformed entries are skipped, never raised: a broken Link header ends pagination.
    """
    out: list[tuple[str, dict[str, str]]] = []
    for value in values:
        if len(value) > MAX_LINK_LENGTH:
            continue
        i, n = 0, len(value)
        while i < n:
            while i < n and value[i] in " \t,":
                i += 1
            if i >= n or value[i] != "<":
                break
            end = value.find(">", i)
            if end < 0:
                break
            url = value[i + 1 : end]
            params, i = _params(value, end + 1)
            out.append((url, params))
    return out


def _params(value: str, i: int) -> tuple[dict[str, str], int]:
    """Parse `; name=value; name="value"` up to the next `,` or the end."""
    n = len(value)
    params: dict[str, str] = {}
    while i < n and value[i] != ",":
        if value[i] in " \t;":
            i += 1
            continue
        eq = i
        while eq < n and value[eq] not in "=;,":
            eq += 1
        name, i, val = value[i:eq].strip().lower(), eq, ""
        if i < n and value[i] == "=":
            i += 1
            if i < n and value[i] == '"':
                close = value.find('"', i + 1)
                close = n if close < 0 else close
                val, i = value[i + 1 : close], close + 1
            else:
                start = i
                while i < n and value[i] not in ";,":
                    i += 1
                val = value[start:i].strip()
        if name:
            params.setdefault(name, val)
    return params, i


def next_link(values: Iterable[str]) -> str | None:
    """The target of the first link whose `rel` includes `next`, if any."""
    for url, params in parse_links(values):
        if "next" in params.get("rel", "").lower().split() and url:
            return url
    return None
