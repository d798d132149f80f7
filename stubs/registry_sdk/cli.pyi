from _typeshed import Incomplete
from collections.abc import Sequence

__all__ = ['EXIT_AUTH', 'EXIT_ERROR', 'EXIT_NOT_FOUND', 'EXIT_USAGE', 'main']

EXIT_ERROR: Incomplete
EXIT_USAGE: Incomplete
EXIT_AUTH: Incomplete
EXIT_NOT_FOUND: Incomplete

def main(argv: Sequence[str] | None = None) -> int: ...
