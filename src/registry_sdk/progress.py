"""Progress reporting for transfers: a callable receiving `ProgressEvent`s.

```python
from registry_sdk.progress import ProgressEvent

def show(event: ProgressEvent) -> None:
    print(event.action, event.digest, event.done, event.total)

client.push_blob(repo, "layer.tar", progress=show)
```

Events arrive on the thread doing the transfer (during a concurrent copy, one of its
workers: keep callbacks quick and thread-safe). `digest` and `total` may be
`None` while they are unknown (a one-shot stream is hashed as it is sent).
"""

from __future__ import annotations

import enum
from typing import Protocol

import attrs

__all__ = ["Progress", "ProgressAction", "ProgressEvent"]


class ProgressAction(enum.StrEnum):
    """What a transfer is doing."""

    DOWNLOAD = "download"
    UPLOAD = "upload"
    MOUNT = "mount"
    SKIP = "skip"
    MANIFEST = "manifest"


@attrs.frozen
class ProgressEvent:
    """One step of a transfer.

    Attributes:
        digest: the blob or manifest's digest (`None` while not yet known).
        done: bytes transferred so far (for `skip` and `mount`, the whole size).
        total: the size when known, else `None`.
        action: a [ProgressAction][registry_sdk.progress.ProgressAction].
    """

    digest: str | None
    done: int
    total: int | None
    action: ProgressAction = attrs.field(converter=ProgressAction)


class Progress(Protocol):
    """A callable receiving [ProgressEvent][registry_sdk.progress.ProgressEvent]s."""

    def __call__(self, event: ProgressEvent, /) -> None:
        """Called once per event; an exception raised here aborts the transfer."""
