"""Progress of transfers: what a `progress=` callback receives.

```python
from registry_sdk.progress import ProgressEvent

def show(event: ProgressEvent) -> None:
    print(event.action, event.digest, event.done, event.total)
```

Callbacks run on the thread doing the transfer (one of several during a concurrent
copy), so they should be quick and thread-safe.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

__all__ = ["Progress", "ProgressAction", "ProgressEvent"]


class ProgressAction(enum.StrEnum):
    """What is happening to a blob or manifest."""

    DOWNLOAD = "download"
    UPLOAD = "upload"
    MOUNT = "mount"
    SKIP = "skip"
    MANIFEST = "manifest"


@attrs.frozen
class ProgressEvent:
    """One step of a transfer: `done` of `total` bytes of `digest`.

    `digest` and `total` may be None while unknown (a one-shot upload is hashed as it is
    sent; a registry may send no length).
    """

    digest: str | None
    done: int
    total: int | None
    action: ProgressAction


#: A progress callback.
Progress = Callable[[ProgressEvent], None]
