import attrs
from collections.abc import Iterable, Mapping
from registry_sdk.errors import InvalidChallenge as InvalidChallenge
from registry_sdk.scope import Scope

__all__ = ['Challenge', 'InvalidChallenge', 'parse_challenges', 'pick_challenge']

@attrs.frozen
class Challenge:
    scheme: str
    params: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    token68: str | None = None
    @property
    def realm(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def scopes(self) -> tuple[str, ...]: ...
    def parsed_scopes(self) -> tuple[Scope, ...]: ...

def parse_challenges(values: Iterable[str]) -> tuple[Challenge, ...]: ...
def pick_challenge(challenges: Iterable[Challenge]) -> Challenge | None: ...
