"""The public API is exactly __all__, and no subpackage shadows a public function."""

from __future__ import annotations

import importlib
import pkgutil

import cherry_nb


def test_every_exported_name_resolves_after_all_submodules_are_imported():
    # Importing a submodule sets an attribute on the package; a function of the
    # same name would be replaced by the module. Import everything first.
    for module in pkgutil.walk_packages(cherry_nb.__path__, "cherry_nb."):
        # asgi builds an app from the user config; __main__ runs the CLI.
        if module.name not in ("cherry_nb.gateway.asgi", "cherry_nb.__main__"):
            importlib.import_module(module.name)
    for name in cherry_nb.__all__:
        value = getattr(cherry_nb, name)
        assert not isinstance(value, type(cherry_nb)), f"cherry_nb.{name} is a module"


def test_functions_are_callable_and_documented():
    for name in ("check", "registry", "setup", "gateway_server", "gateway_key", "gateway_panel"):
        function = getattr(cherry_nb, name)
        assert callable(function) and function.__doc__


def test_all_is_sorted_and_complete():
    public = {n for n in vars(cherry_nb) if not n.startswith("_")} - {
        "annotations",
        "TYPE_CHECKING",
        "Any",
    }
    assert cherry_nb.__all__ == sorted(cherry_nb.__all__)  # kept sorted, so diffs stay small
    assert public <= set(cherry_nb.__all__) | {
        "gateway",
        "config",
        "wire",
        "providers",
        "notebook",
        "simulator",
        "diagnosis",
        "cli",
        "cli_groups",
        "demo",
        "key_check",
        "ledger",
    }
