from _typeshed import Incomplete
from registry_sdk.errors import InvalidReference as InvalidReference, ReferenceErrorKind as ReferenceErrorKind
from typing import NamedTuple

MAX_INPUT_LENGTH: int
NAME_TOTAL_LENGTH_MAX: int
TAG_MAX: int
PATH_COMPONENT: Incomplete
DOMAIN: Incomplete
REMOTE_NAME: Incomplete
NAME: Incomplete
TAG: str
DIGEST: str
REFERENCE: Incomplete
DOMAIN_RE: Incomplete
PATH_RE: Incomplete
TAG_RE: Incomplete
DIGEST_GRAMMAR_RE: Incomplete
SUPPORTED_DIGEST_RE: Incomplete
MESSAGES: Incomplete

class ReferenceParts(NamedTuple):
    domain: str | None
    path: str
    tag: str | None
    digest: str | None

def fail(kind: ReferenceErrorKind, source: str, span: tuple[int, int], detail: str = '') -> InvalidReference: ...
def check_length(source: str) -> None: ...
def validate_digest(source: str, start: int, digest: str) -> None: ...
def locate_error(source: str, offset: int = 0, text: str | None = None) -> InvalidReference: ...
def split(source: str) -> ReferenceParts: ...
def split_remainder(source: str, remainder: str, offset: int) -> tuple[str, str | None, str | None]: ...
def is_identifier(text: str) -> bool: ...
