"""An RFC 7235 / RFC 9110 §11 parser for `WWW-Authenticate` headers.

```
WWW-Authenticate = #challenge
challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
auth-param       = token BWS "=" BWS ( token / quoted-string )
token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
```

Several challenges may share one header field and several fields may be given; the
results are concatenated in order. Scheme and parameter names are lower-cased, values
are kept as sent (quoted strings unescaped). A token68 may end in `=` padding
(`Negotiate abc==`, even `Bearer realm=`): an auth-param needs a value after its `=`, so
such an element is a token68. A line folded with CRLF followed by SP or HTAB (obs-fold)
counts as whitespace.

>>> from registry_sdk.challenge import parse_challenges
>>> for c in parse_challenges(['Basic realm="a", Bearer realm="b",service="c"']):
...     print(c.scheme, dict(c.params))
basic {'realm': 'a'}
bearer {'realm': 'b', 'service': 'c'}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

import attrs

from registry_sdk._errors import InvalidChallenge, InvalidScope
from registry_sdk.scope import Scope

__all__ = [
    "Challenge",
    "InvalidChallenge",
    "parse_challenges",
    "pick_challenge",
]

log = logging.getLogger("registry_sdk.transport")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A token68 is the whole list element: "=" padding may end it, then only OWS and a comma
# or the end. Such an element is never an auth-param, which needs a value after "=".
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|\Z))")
# obs-fold: a line break followed by SP or HTAB is whitespace (RFC 9112 §5.2). The CRLF
# becomes two spaces, so that positions in error messages still point into the input.
_OBS_FOLD = re.compile(r"\r\n(?=[ \t])")
_WS = " \t"
#: Headers longer than this are refused before parsing (security rule 5).
MAX_HEADER_LENGTH = 16 * 1024
_PREFERENCE = {"bearer": 0, "basic": 1}


@attrs.frozen
class Challenge:
    """One authentication challenge: a scheme and its parameters, or a token68."""

    scheme: str
    params: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        """The `realm` parameter, if any."""
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        """The `service` parameter, if any."""
        return self.params.get("service")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The space-separated `scope` parameter, split."""
        return tuple(self.params.get("scope", "").split())

    def parsed_scopes(self) -> tuple[Scope, ...]:
        """The `scope` parameter as Scopes; entries that do not parse are skipped."""
        out = []
        for text in self.scopes:
            try:
                out.append(Scope.parse(text))
            except InvalidScope:
                log.debug("ignoring an unparsable challenge scope")
        return tuple(out)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.s = _OBS_FOLD.sub("  ", source) if "\r\n" in source else source
        self.i = 0

    def error(self, message: str) -> InvalidChallenge:
        return InvalidChallenge(
            f"{message} at position {self.i}", source=self.source, position=self.i
        )

    def skip(self, chars: str = _WS) -> None:
        while self.i < len(self.s) and self.s[self.i] in chars:
            self.i += 1

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def token(self) -> str:
        match = _TOKEN.match(self.s, self.i)
        if match is None:
            raise self.error("expected a token")
        self.i = match.end()
        return match.group()

    def quoted(self) -> str:
        self.i += 1  # opening quote
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\":
                if self.i + 1 >= len(self.s):
                    raise self.error("dangling backslash in quoted string")
                out.append(self.s[self.i + 1])
                self.i += 2
            elif ch == '"':
                self.i += 1
                return "".join(out)
            else:
                out.append(ch)
                self.i += 1
        raise self.error("unterminated quoted string")

    def value(self) -> str:
        return self.quoted() if self.peek() == '"' else self.token()

    def is_param_ahead(self) -> bool:
        """Whether the text at the cursor is `token BWS "="` (an auth-param)."""
        match = _TOKEN.match(self.s, self.i)
        if match is None:
            return False
        j = match.end()
        while j < len(self.s) and self.s[j] in _WS:
            j += 1
        return j < len(self.s) and self.s[j] == "="

    def param(self, params: dict[str, str]) -> None:
        name = self.token().lower()
        self.skip()
        self.i += 1  # "=", checked by is_param_ahead
        self.skip()
        if name in params:
            raise self.error(f"duplicate parameter {name!r}")
        params[name] = self.value()

    def parse(self) -> list[Challenge]:
        out: list[Challenge] = []
        params: dict[str, str] | None = None  # params of the current challenge, if allowed
        while True:
            self.skip(_WS + ",")
            if self.i >= len(self.s):
                return out
            if self.is_param_ahead():
                if params is None:
                    raise self.error("parameter without a challenge")
                self.param(params)
            else:
                scheme = self.token().lower()
                params = None
                token68 = None
                if self.peek() in (" ", "\t"):
                    self.skip()
                    match = _TOKEN68.match(self.s, self.i)
                    if match is not None:
                        token68 = match.group()
                        self.i = match.end()
                    else:
                        params = {}
                        if self.is_param_ahead():
                            self.param(params)
                out.append(Challenge(scheme, params if params is not None else {}, token68))
            self.skip()
            if self.i < len(self.s) and self.peek() != ",":
                raise self.error("expected ','")


def parse_challenges(values: Iterable[str]) -> tuple[Challenge, ...]:
    """Parse one or more `WWW-Authenticate` field values into challenges, in order.

    Raises:
        InvalidChallenge: on malformed input (unterminated quotes, a parameter with no
            challenge, duplicate parameters, stray characters, oversized header).
    """
    result: list[Challenge] = []
    for value in values:
        if len(value) > MAX_HEADER_LENGTH:
            raise InvalidChallenge(
                "WWW-Authenticate header too long", source=value[:64], position=MAX_HEADER_LENGTH
            )
        result.extend(_Parser(value).parse())
    # The Challenge objects share the parser's dicts; they are never mutated afterwards.
    return tuple(result)


def pick_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The challenge to answer: Bearer over Basic, else None (no scheme we speak)."""
    usable = [c for c in challenges if c.scheme in _PREFERENCE]
    return min(usable, key=lambda c: _PREFERENCE[c.scheme], default=None)
