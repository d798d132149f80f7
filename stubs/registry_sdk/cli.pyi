from collections.abc import Sequence

__all__ = ['EXIT_AUTH', 'EXIT_ERROR', 'EXIT_NOT_FOUND', 'EXIT_USAGE', 'main']

EXIT_ERROR: int
EXIT_USAGE: int
EXIT_AUTH: int
EXIT_NOT_FOUND: int

def main(argv: Sequence[str] | None = None) -> int: ...
