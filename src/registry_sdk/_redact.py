"""Redaction of secrets in URLs and text shown to people (security rule 4).

Only query parameters on a short allow-list keep their values; every other value is
replaced, because pre-signed blob URLs and some token realms carry credentials in the
query string. A password in the URL's userinfo is dropped too.
"""

from __future__ import annotations

__all__ = ["REDACTED", "redact_url"]

REDACTED = "REDACTED"

#: Query parameters whose values are never secret in registry traffic.
_SAFE_PARAMS = frozenset(
    {"scope", "service", "mount", "from", "digest", "n", "last", "ns", "artifactType"}
)


def redact_url(url: str) -> str:
    """Return *url* with secret query values and any userinfo password replaced.

    >>> redact_url("https://blob.example/x?X-Amz-Signature=abc&n=10")
    'https://blob.example/x?X-Amz-Signature=REDACTED&n=10'
    """
    # Imported here: `import registry_sdk.name` should not pay for urllib.parse.
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, v if k in _SAFE_PARAMS else REDACTED) for k, v in pairs], safe=":/,*@"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
