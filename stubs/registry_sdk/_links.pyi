from _typeshed import Incomplete
from collections.abc import Iterable

MAX_LINK_LENGTH: Incomplete

def parse_links(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]: ...
def next_link(values: Iterable[str]) -> str | None: ...
