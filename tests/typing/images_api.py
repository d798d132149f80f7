"""Never executed: mypy checks that the images API reads the way applications use it."""

from __future__ import annotations

from pathlib import Path


def images_api() -> None:
    from registry_sdk import Client
    from registry_sdk.errors import NoMatchingPlatform
    from registry_sdk.models import Descriptor, ImageConfig, ImageManifest, Manifest, Platform
    from registry_sdk.progress import ProgressEvent

    client = Client()
    image: Manifest = client.get_image("localhost:5000/a:v1", platform="linux/arm64")
    layers: tuple[Descriptor, ...] = image.image.layers
    other: ImageManifest = client.get_image(
        "localhost:5000/a:v1", platform=Platform("amd64", "linux")
    ).image
    config: ImageConfig = client.get_config("localhost:5000/a:v1")
    print(layers, other, config.platform, config.config and config.config.env)
    try:
        client.get_image("localhost:5000/a:v1")
    except NoMatchingPlatform as exc:
        available: tuple[Platform, ...] = exc.available
        wanted: Platform | None = exc.wanted
        print(available, wanted)

    def show(event: ProgressEvent) -> None:
        print(event.done, event.total)

    saved: Descriptor = client.download_blob(
        "localhost:5000/a@sha256:" + "0" * 64, Path("layer.bin"), progress=show
    )
    print(saved.size, client.download_blob("localhost:5000/a@sha256:" + "0" * 64, "x"))
