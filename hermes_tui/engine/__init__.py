"""Everything that talks to a container runtime: find and diagnose it, pull, run the gateway.

Modules here import aiodocker and aiohttp lazily, inside the functions that need them, so
that importing the package (and starting the wizard) stays cheap.
"""
