"""hermes-tui: a keyboard-only terminal wizard that sets up a Hermes agent in a container."""

__version__ = "0.1.0"
