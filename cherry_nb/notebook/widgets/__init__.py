"""ipywidgets 8 panels: the provider manager (`setup`) and the gateway panel.

from cherry_nb.notebook.widgets import gateway_panel, setup
setup()          # add providers, check keys, manage models
gateway_panel()  # start the gateway, copy its key, paste client snippets
"""

from __future__ import annotations

from .gateway import GatewayPanel as GatewayPanel
from .gateway import gateway_panel as gateway_panel
from .gateway import public_url as public_url
from .providers import ProviderForm as ProviderForm
from .providers import ProviderManager as ProviderManager
from .providers import setup as setup

__all__ = [
    "GatewayPanel",
    "ProviderForm",
    "ProviderManager",
    "gateway_panel",
    "public_url",
    "setup",
]
