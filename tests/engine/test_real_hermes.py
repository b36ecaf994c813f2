"""The real Hermes on profiles that ``hermes-tui setup --non-interactive`` made.

The oracle is hermes-agent 0.19.0 itself (tests/support/hermes.py): once on this host
(``HERMES_HOME=<profile> hermes gateway run``, as real-hermes.md describes) and once in the
wizard's own container, from an image holding the real Hermes (tests/support/hermes_image.py),
started by ``setup`` run as an unprivileged user. In both, ``/health`` must answer as
hermes-agent, and a chat completion sent to the gateway's API with the key the wizard
generated must reach the router double with the profile's default model and bring the
router's answer back.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from hermes_tui.envfile import read_env
from tests.support.engine import LocalEngine
from tests.support.hermes import HermesVenv
from tests.support.openai_router import OpenAIRouter
from tests.support.real_hermes import (
    ROUTER_KEY,
    chat_through_the_gateway,
    run_setup,
    setup_env,
    wait_for_health,
)

TOKEN = "123456:telegram-secret-token"
NOBODY = 65534


def remove_bot_gateway(engine: LocalEngine) -> None:
    """Remove profile bot's gateway container from ``engine`` (none there is fine)."""
    import asyncio

    import aiodocker

    from hermes_tui.engine.gateway import remove_gateway

    async def remove() -> None:
        docker = aiodocker.Docker(url=engine.docker_host)
        try:
            await remove_gateway(docker, "bot")
        finally:
            await docker.close()

    asyncio.run(remove())


def test_real_hermes_gateway_runs_on_a_profile_setup_made(
    local_engine: LocalEngine, hermes_venv: HermesVenv, hermes_router: OpenAIRouter,
    tmp_path: Path,
) -> None:
    """``HERMES_HOME=<profile> hermes gateway run`` on this host, as real-hermes.md says."""



    data = tmp_path / "data"
    done = run_setup(local_engine.docker_host, local_engine.image, data, hermes_router,
                     "--channel", "telegram", env=setup_env(data / "home", TELEGRAM_BOT_TOKEN=TOKEN))
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    remove_bot_gateway(local_engine)  # the stand-in holds the port: the real one takes over
    profile = data / "profiles" / "bot"
    values = read_env(profile / ".env")
    port, key = int(values["API_SERVER_PORT"]), values["API_SERVER_KEY"]
    log = tmp_path / "hermes.log"
    with open(log, "wb") as out:
        gateway = subprocess.Popen(
            [str(hermes_venv.hermes), "gateway", "run"], env=hermes_venv.environment(profile),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=profile,
            start_new_session=True)
    try:
        health = wait_for_health(port, lambda: log.read_text(errors="replace")[-4000:])
        assert health == {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
        chat_through_the_gateway(port, key, hermes_router)
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gateway.pid, signal.SIGKILL)
            gateway.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert key not in text and TOKEN not in text and ROUTER_KEY not in text


def test_non_root_setup_leaves_a_real_hermes_gateway_and_files_the_user_owns(
    local_engine: LocalEngine, hermes_image: str, hermes_router: OpenAIRouter, nobody_dir: Path
) -> None:
    """``setup`` as user nobody (in the docker group, as a user would be) with the image
    holding the real Hermes: the image chowns the profile to HERMES_UID, which is nobody."""



    socket_gid = os.stat(local_engine.socket_path).st_gid
    as_nobody = ["setpriv", f"--reuid={NOBODY}", "--regid=nogroup", f"--groups={socket_gid}"]
    data = nobody_dir / "data"
    state_dir = Path(local_engine.socket_path).parent
    mode = state_dir.stat().st_mode & 0o7777
    state_dir.chmod(0o711)  # the socket's folder: passable, as /var/run is for a user
    try:
        done = run_setup(local_engine.docker_host, hermes_image, data, hermes_router,
                         user=as_nobody, env=setup_env(nobody_dir / "home"))
        report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert done.returncode == 0, report
        assert "(hermes-agent 0.19.0)" in done.stdout, report

        profile = data / "profiles" / "bot"
        values = read_env(profile / ".env")
        port, key = int(values["API_SERVER_PORT"]), values["API_SERVER_KEY"]
        assert key not in done.stdout + done.stderr
        chat_through_the_gateway(port, key, hermes_router)

        # Hermes ran as nobody: what it wrote and what the wizard wrote stay nobody's.
        for entry in [profile, *profile.iterdir()]:
            assert entry.lstat().st_uid == NOBODY, f"{entry} is uid {entry.lstat().st_uid}'s"
        reread = subprocess.run(
            [*as_nobody, "cat", str(profile / ".env"), str(profile / "config.yaml")],
            capture_output=True, text=True, timeout=30, check=False)
        assert reread.returncode == 0 and "API_SERVER_KEY=" in reread.stdout, reread.stderr
        again = run_setup(local_engine.docker_host, hermes_image, data, hermes_router,
                          user=as_nobody, env=setup_env(nobody_dir / "home"))
        assert again.returncode == 0, f"stdout:\n{again.stdout}\nstderr:\n{again.stderr}"
        assert read_env(profile / ".env")["API_SERVER_KEY"] == key  # kept, not rotated
    finally:
        state_dir.chmod(mode)
        remove_bot_gateway(local_engine)
