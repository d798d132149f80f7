import attrs
import enum
from collections.abc import Callable
from typing_extensions import TypeAlias

__all__ = ['Progress', 'ProgressAction', 'ProgressEvent']

class ProgressAction(enum.StrEnum):
    DOWNLOAD = 'download'
    UPLOAD = 'upload'
    MOUNT = 'mount'
    SKIP = 'skip'
    MANIFEST = 'manifest'

@attrs.frozen
class ProgressEvent:
    digest: str | None
    done: int
    total: int | None
    action: ProgressAction

Progress: TypeAlias = Callable[[ProgressEvent], None]
