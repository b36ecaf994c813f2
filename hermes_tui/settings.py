"""What the user asked for on the command line, resolved once and handed to every layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hermes_tui.paths import Paths

#: The Hermes image the wizard pulls unless --image says otherwise: a dated release tag,
#: never :latest (which follows the main branch).
DEFAULT_IMAGE = "docker.io/nousresearch/hermes-agent:v2026.9.24"


@dataclass(frozen=True)
class Settings:
    paths: Paths
    image: str = DEFAULT_IMAGE
    docker_host: str | None = None
    router_url: str | None = None
    claw_dir: Path | None = None
    #: What the gateway container runs; None means the image's ``gateway run``. Tests set it
    #: to make a gateway crash on purpose.
    gateway_command: tuple[str, ...] | None = None
