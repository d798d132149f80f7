from _typeshed import Incomplete
from registry_sdk.errors import ResponseLike

__all__ = ['ERROR_BODY_LIMIT', 'check_error', 'preloaded_body']

ERROR_BODY_LIMIT: Incomplete

def preloaded_body(response: object) -> bytes | None: ...
def check_error(response: ResponseLike, *expected: int, method: str = '', url: str = '') -> None: ...
