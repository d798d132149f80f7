__all__ = ['REDACTED', 'redact_url']

REDACTED: str

def redact_url(url: str) -> str: ...
