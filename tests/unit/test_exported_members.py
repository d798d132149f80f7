"""The public surface: __all__ complete and sorted, everything documented."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import registry_sdk

PUBLIC_MODULES = [
    "registry_sdk",
    "registry_sdk.name",
    "registry_sdk.scope",
    "registry_sdk.authn",
    "registry_sdk.challenge",
    "registry_sdk.transport",
    "registry_sdk.client",
    "registry_sdk.models",
    "registry_sdk.cli",
    "registry_sdk.errors",
    "registry_sdk.progress",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_complete_and_documented(module_name: str) -> None:
    """__all__ lists every public name once, sorted, each with a docstring."""
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"
    defined = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and getattr(v, "__module__", None) == module_name
        and (inspect.isclass(v) or inspect.isfunction(v))
    }
    assert defined <= set(exported), defined - set(exported)


def test_version_matches_metadata() -> None:
    """__version__ comes from the installed metadata."""
    from importlib.metadata import version

    assert registry_sdk.__version__ == version("registry-sdk")


def test_importing_name_stays_light() -> None:
    """import registry_sdk.name pulls in neither urllib3, cattrs nor attrs."""
    code = (
        "import sys, registry_sdk.name; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('urllib3', 'cattrs', 'attr', 'attrs', 'http', 'ssl', 'json', 'subprocess', "
        "'logging', 'inspect')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
