import attrs
import enum
from typing import Protocol

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
    action: ProgressAction = attrs.field(converter=ProgressAction)

class Progress(Protocol):
    def __call__(self, event: ProgressEvent, /) -> None: ...
