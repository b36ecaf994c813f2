"""One module per OpenClaw area; ``registry.REGISTRY`` runs their entry points in order."""
