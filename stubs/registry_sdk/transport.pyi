import attrs
import urllib3
from _typeshed import Incomplete
from collections.abc import Iterable, Mapping
from registry_sdk import _token as T
from registry_sdk._wire import default_retries as default_retries, read_capped as read_capped, scope_for_request as scope_for_request
from registry_sdk.authn import Authenticator
from registry_sdk.challenge import Challenge
from registry_sdk.name import Registry
from registry_sdk.scope import Scope

__all__ = ['DEFAULT_TIMEOUT', 'RegistryState', 'Transport', 'default_retries', 'read_capped', 'scope_for_request']

DEFAULT_TIMEOUT: Incomplete

@attrs.define
class RegistryState:
    challenge: Challenge | None = ...

class Transport:
    registry: Incomplete
    authenticator: Incomplete
    scopes: Incomplete
    insecure: Incomplete
    user_agent: Incomplete
    def __init__(self, registry: Registry | str, authenticator: Authenticator = ..., scopes: Iterable[Scope] = (), *, pool: urllib3.PoolManager | None = None, retries: urllib3.Retry | None = None, timeout: urllib3.Timeout | None = None, user_agent: str | None = None, insecure: bool = False, ca_certs: str | None = None, token_cache: T.TokenCache | None = None, state: RegistryState | None = None, oauth_password: bool = False) -> None: ...
    @property
    def base_url(self) -> str: ...
    def url(self, path: str) -> str: ...
    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None, preload_content: bool = True, scopes: Iterable[Scope] = ()) -> urllib3.BaseHTTPResponse: ...
