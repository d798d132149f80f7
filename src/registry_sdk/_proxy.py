"""Choosing a proxy: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, as docker and requests do."""

from __future__ import annotations

import ipaddress
import threading
import urllib.request
from urllib.parse import urlsplit

import urllib3

from registry_sdk._token import is_loopback_host

__all__ = ["Proxies", "bypassed_by_no_proxy"]


def bypassed_by_no_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """NO_PROXY matching: `*`, exact hosts, `host:port`, domain suffixes and CIDR blocks."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            if _in_network(host, entry):
                return True
            continue
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        name = name.strip("[]").lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def _in_network(host: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


class Proxies:
    """The pool to send a URL through: the direct one, or a proxy's.

    The environment is read once, when this is created: scanning `os.environ` on every
    request costs more than a warm request. Loopback hosts are always reached directly.
    """

    def __init__(self, direct: urllib3.PoolManager, ca_certs: str | None) -> None:
        self._direct = direct
        self._ca_certs = ca_certs
        self._env = urllib.request.getproxies_environment()
        self._managers: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()

    def pool_for(self, url: str) -> urllib3.PoolManager:
        """The pool for *url*."""
        if not self._env:
            return self._direct
        parts = urlsplit(url)
        proxy = self._env.get(parts.scheme)
        host = parts.hostname or ""
        # This machine is never reached through a proxy (as docker and Go do): a proxy
        # would see a loopback registry's credentials, in plain http at that.
        if (
            not proxy
            or is_loopback_host(host)
            or bypassed_by_no_proxy(host, parts.port, self._env.get("no", ""))
        ):
            return self._direct
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                manager = urllib3.ProxyManager(
                    proxy, ca_certs=self._ca_certs, cert_reqs="CERT_REQUIRED"
                )
                self._managers[proxy] = manager
        return manager

    def clear(self) -> None:
        """Close every proxy pool."""
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()
