"""Images: one platform's manifest, its config, and blobs saved to files.

What `Client.get_image`, `Client.get_config` and `Client.download_blob` delegate to.
Every function takes the Client first; they hold no state of their own.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING

from urllib3.exceptions import HTTPError

from registry_sdk import _convert
from registry_sdk._blob import digest_of, hasher_for
from registry_sdk._errors import (
    DigestMismatch,
    InvalidReference,
    InvalidResponse,
    NoMatchingPlatform,
    TransportError,
)
from registry_sdk._http import read_capped
from registry_sdk._read import MANIFEST_LIMIT, get_manifest, media_type
from registry_sdk.models import (
    DOCKER_CONFIG,
    MANIFEST_ACCEPT,
    OCI_CONFIG,
    Descriptor,
    ImageConfig,
    Manifest,
    Platform,
    as_platform,
)
from registry_sdk.progress import Progress, ProgressAction, ProgressEvent

if TYPE_CHECKING:
    import urllib3

    from registry_sdk.client import Client
    from registry_sdk.name import Digest, Repository, Tag

#: Most times one download is resumed (with `Range`) after its connection broke.
MAX_RESUMES = 5
#: The config media types of images (anything else is an artifact's config).
CONFIG_MEDIA_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})

#: Bytes asked of the connection at a time. urllib3 drops what one read() had gathered
#: when the connection breaks inside it, so a resume re-fetches less than this much.
READ_STEP = 64 * 1024

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.ASCII)
_OCTET_STREAM = "application/octet-stream"


def _named(repo: Repository, digest: str, what: str) -> Digest:
    """*repo* with a digest a registry sent; a malformed one is the registry's fault."""
    try:
        return repo.with_digest(digest)
    except InvalidReference:
        raise InvalidResponse(f"{what} has an invalid digest {digest!r}", what=what) from None


# ---------------------------------------------------------------- images and configs


def get_image(
    client: Client,
    ref: Tag | Digest,
    platform: Platform | str | None,
) -> Manifest:
    """The image manifest *ref* names for *platform* (see Client.get_image)."""
    return resolve(client, ref, platform)[0]


def get_config(
    client: Client,
    ref: Tag | Digest,
    platform: Platform | str | None,
) -> ImageConfig:
    """The config of the image *ref* names for *platform* (see Client.get_config)."""
    manifest, config = resolve(client, ref, platform)
    return config if config is not None else config_of(client, ref.repository, manifest)


def resolve(
    client: Client,
    ref: Tag | Digest,
    platform: Platform | str | None,
) -> tuple[Manifest, ImageConfig | None]:
    """The image manifest for *platform*, and its config when reading it was needed.

    An index is resolved one level: its child for the platform (the only candidate when
    no platform is given) is fetched by digest and must be an image. An image asked
    for with a platform has its config read to check that it is for that platform.
    """
    wanted = None if platform is None else as_platform(platform)  # bad input: no I/O
    manifest = get_manifest(client, ref, MANIFEST_ACCEPT, MANIFEST_LIMIT)
    if not manifest.is_index:
        if wanted is None:
            return manifest, None
        config = config_of(client, ref.repository, manifest)
        if not config.platform.matches(wanted):
            raise NoMatchingPlatform(
                f"image {manifest.digest} is for {config.platform}, not {wanted}",
                wanted=wanted,
                available=(config.platform,),
                digest=manifest.digest,
            )
        return manifest, config
    index = manifest.index
    available = index.platforms
    if wanted is None and len(available) != 1:
        raise NoMatchingPlatform(wanted=None, available=available, digest=manifest.digest)
    child = index.select(wanted if wanted is not None else available[0])
    if child is None:
        raise NoMatchingPlatform(wanted=wanted, available=available, digest=manifest.digest)
    child_ref = _named(ref.repository, child.digest, f"index {manifest.digest}")
    found = get_manifest(client, child_ref, MANIFEST_ACCEPT, MANIFEST_LIMIT)
    found.image  # noqa: B018 (a nested index is not followed: ManifestKindMismatch)
    return found, None


def config_of(client: Client, repo: Repository, manifest: Manifest) -> ImageConfig:
    """Fetch an image manifest's config blob: capped, verified by digest, decoded."""
    desc = manifest.image.config
    what = "image config"
    if desc.media_type not in CONFIG_MEDIA_TYPES:
        raise InvalidResponse(
            f"image {manifest.digest} has a config of type "
            f"{desc.media_type!r}, not an image config (an artifact?)",
            what=what,
        )
    if desc.size > MANIFEST_LIMIT:
        raise InvalidResponse(
            f"{what} of {manifest.digest} is larger than {MANIFEST_LIMIT} bytes", what=what
        )
    config_ref = _named(repo, desc.digest, f"image {manifest.digest}")
    url = client.transport(repo).url(f"/v2/{repo.path}/blobs/{desc.digest}")
    resp, t = client.send(repo, "GET", url, preload_content=False)
    client.check(resp, t, "GET", url)
    raw = read_capped(resp, MANIFEST_LIMIT, what, method="GET", url=url)
    actual = digest_of(raw, desc.digest.partition(":")[0])
    if actual != desc.digest:
        raise DigestMismatch(expected=desc.digest, actual=actual, what=f"{what} {config_ref}")
    return _convert.loads(raw, ImageConfig, what)


# ------------------------------------------------------------------------ downloads


def download_blob(
    client: Client, ref: Digest, path: str | os.PathLike[str], progress: Progress | None
) -> Descriptor:
    """Save a blob to *path*, verified, atomically, resumed (see Client.download_blob)."""
    target = Path(path)
    tmp, fd = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as out:
            found = _fetch_into(client, ref, out, progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:  # nothing is left behind, not even on KeyboardInterrupt
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return found


def _create_beside(target: Path) -> tuple[Path, int]:
    """A new, hidden file in *target*'s directory (mode 0666 less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(3):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        with contextlib.suppress(FileExistsError):
            return tmp, os.open(tmp, flags, 0o666)
    raise FileExistsError(f"cannot create a temporary file beside {target}")


def _fetch_into(
    client: Client, ref: Digest, out: IO[bytes], progress: Progress | None
) -> Descriptor:
    """Write the blob's bytes to *out*, verified; resume after broken connections."""
    repo = ref.repository
    url = client.transport(repo).url(f"/v2/{repo.path}/blobs/{ref.digest}")
    download = _Download(ref, out, progress)
    resumes = 0
    while True:
        headers = {"Range": f"bytes={download.done}-"} if download.done else None
        resp, t = client.send(repo, "GET", url, headers=headers, preload_content=False)
        try:
            client.check(resp, t, "GET", url, 200, 206)
            download.start(resp)
            complete = download.copy(resp)
        except BaseException:
            resp.close()
            raise
        if complete:
            resp.release_conn()
            return download.finish()
        resp.close()
        resumes += 1
        if resumes > MAX_RESUMES:
            raise TransportError(
                f"GET {download.name}: connection broken after "
                f"{download.done} bytes, {MAX_RESUMES} resumes tried",
                method="GET",
                url=url,
            )


class _Download:
    """One blob being written to a file: the hash state and count survive a resume.

    A resumed request (`Range: bytes=N-`) must be answered 206 from N, else it is
    refused; a 200 (the range ignored) starts the file and the hash over.
    """

    def __init__(self, ref: Digest, out: IO[bytes], progress: Progress | None) -> None:
        self.ref, self.out, self.progress = ref, out, progress
        self.name = f"blob {ref}"
        self.hasher = hasher_for(ref.digest)
        self.done = 0
        self.total: int | None = None
        self.media_type = _OCTET_STREAM

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                ProgressEvent(self.ref.digest, self.done, self.total, ProgressAction.DOWNLOAD)
            )

    def start(self, resp: urllib3.BaseHTTPResponse) -> None:
        """Take a response's headers: where its bytes start and the blob's size."""
        if resp.status == 206:
            size = self._resumed_at(resp.headers.get("Content-Range") or "")
        else:
            if self.done:  # the registry ignored the Range: start over
                self.out.seek(0)
                self.out.truncate()
                self.hasher, self.done = hasher_for(self.ref.digest), 0
            length = resp.headers.get("Content-Length", "")
            size = int(length) if length.isdigit() else None
        if size is not None:
            if self.total is not None and size != self.total:
                raise InvalidResponse(
                    f"{self.name} changed size between requests ({self.total}, then {size} bytes)",
                    what="blob",
                )
            self.total = size
        self.media_type = media_type(resp.headers.get("Content-Type")) or self.media_type
        self.report()

    def _resumed_at(self, content_range: str) -> int | None:
        """The blob's size from a 206's `Content-Range`, which must start at `done`."""
        found = _CONTENT_RANGE.fullmatch(content_range.strip())
        if found is None or int(found[1]) != self.done:
            raise InvalidResponse(
                f"{self.name}: a range from byte {self.done} was "
                f"answered with Content-Range {content_range!r}",
                what="blob",
            )
        return None if found[3] == "*" else int(found[3])

    def copy(self, resp: urllib3.BaseHTTPResponse) -> bool:
        """Copy the body to the file; whether it ended whole (False: the connection broke)."""
        while self.total is None or self.done < self.total:
            try:
                data = resp.read(READ_STEP)
            except (HTTPError, OSError):
                return False
            if not data:
                return self.total is None
            if self.total is not None and self.done + len(data) > self.total:
                raise InvalidResponse(f"{self.name} is longer than its Content-Length", what="blob")
            self.out.write(data)
            self.hasher.update(data)
            self.done += len(data)
            self.report()
        return True

    def finish(self) -> Descriptor:
        """Check the digest of what was written; the blob's descriptor."""
        algorithm = self.ref.digest.partition(":")[0]
        actual = f"{algorithm}:{self.hasher.hexdigest()}"
        if actual != self.ref.digest:
            raise DigestMismatch(expected=self.ref.digest, actual=actual, what=self.name)
        if self.total is None:
            self.total = self.done
            self.report()  # the last event carries the total once it is known
        return Descriptor(self.media_type, self.ref.digest, self.done)
