"""cherry_nb: custom AI providers, a key check, and an OpenAI/Anthropic gateway for Jupyter."""

from ._version import __version__

__all__ = ["__version__"]
