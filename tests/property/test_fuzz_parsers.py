"""Only typed errors escape the error-body decoder and the credential-file loaders."""

from __future__ import annotations

import json
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sdk import _authfile as F
from registry_sdk.errors import CredentialsError, RegistryResponseError, check_error

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "errors",
                    "code",
                    "message",
                    "detail",
                    "details",
                    "auths",
                    "auth",
                    "username",
                    "password",
                    "identitytoken",
                    "registrytoken",
                    "credHelpers",
                    "credsStore",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=15,
)


class Response:
    """A minimal response for check_error."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status, self._data, self.headers = status, body, headers

    def read(self, amt: int | None = None) -> bytes:
        return self._data[:amt]


@settings(max_examples=300)
@given(
    st.integers(300, 599),
    st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())),
    st.dictionaries(
        st.sampled_from(["WWW-Authenticate", "Retry-After", "Content-Type"]),
        st.text(max_size=40),
        max_size=3,
    ),
)
def test_error_bodies_give_registry_response_errors(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    """Any error body and headers: RegistryResponseError with the status, nothing else."""
    try:
        check_error(Response(status, body, headers), method="GET", url="https://r/v2/")
    except RegistryResponseError as exc:
        assert exc.status == status
        str(exc)
    else:
        raise AssertionError("a non-200 status passed")


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)), st.booleans(), st.booleans())
def test_config_files_load_or_raise_credentials_error(
    text: str, docker: bool, legacy: bool
) -> None:
    """Any file content: parsed (and every entry decodes or fails typed) or CredentialsError."""
    try:
        parsed = F.parse(text, "/fuzz/config.json", docker_format=docker, legacy=legacy)
        for key, entry in parsed.auths.items():
            try:
                F.decode_entry(entry, f"/fuzz/config.json (key {key!r})")
            except CredentialsError:
                pass
        F.find_entry(parsed, "r.example", "a/b")
        F.helper_for(parsed, "docker.io")
    except CredentialsError as exc:
        assert exc.source == "/fuzz/config.json"
