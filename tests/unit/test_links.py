"""Table tests for RFC 8288 Link parsing."""

from __future__ import annotations

import pytest

from registry_sdk._links import next_link, parse_links

LINKS = [
    (['</v2/a/tags/list?last=b&n=2>; rel="next"'], "/v2/a/tags/list?last=b&n=2"),
    (["<https://r/v2/a/tags/list?n=1>;rel=next"], "https://r/v2/a/tags/list?n=1"),
    (['</p>; rel="prev", </n>; rel="next"'], "/n"),
    (['</x>; title="a, b; c"; rel="next"'], "/x"),
    (['</x>; rel="prev next"'], "/x"),
    (['</p>; rel="prev"', '</n>; rel="next"'], "/n"),
    (["<>; rel=next"], None),
    (["</x>"], None),
    ([""], None),
    (["<"], None),
    (["><"], None),
    (['/x; rel="next"'], None),
]


@pytest.mark.parametrize(("values", "expected"), LINKS)
def test_next_link(values: list[str], expected: str | None) -> None:
    """rel="next" is found among several links and parameters; malformed gives None."""
    assert next_link(values) == expected


def test_parse_links_params() -> None:
    """Parameters are lower-cased names with unquoted values."""
    assert parse_links(['</a>; REL="next"; type=text/html']) == [
        ("/a", {"rel": "next", "type": "text/html"})
    ]
