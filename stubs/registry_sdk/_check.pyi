from _typeshed import Incomplete
from registry_sdk.errors import ResponseLike

__all__ = ['ERROR_BODY_LIMIT', 'check_error']

ERROR_BODY_LIMIT: Incomplete

def check_error(response: ResponseLike, *expected: int, method: str = '', url: str = '') -> None: ...
