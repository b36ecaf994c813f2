"""Help for each step (the ``?`` key), with the spec's troubleshooting advice."""

from __future__ import annotations

from hermes_tui.progress import StepId

#: The API key and file ownership, for Completion and the dashboard.
API_HELP = """
## The API and its key
The gateway serves an OpenAI-compatible API at the URL shown, on this machine only, and
every call needs the profile's key: `Authorization: Bearer <key>`. The key is in the
profile's `.env` as `API_SERVER_KEY` (press **k** to show it). To try it:

```
export API_SERVER_KEY=<the key>
curl -H "Authorization: Bearer $API_SERVER_KEY" http://127.0.0.1:<port>/v1/models
```

The key is generated once, the first time the gateway starts, and then kept. For a new
one, delete the `API_SERVER_KEY` line from `.env` and restart the gateway: a new key is
made at the next start, and clients using the old one stop working.

## Who owns the profile's files
Hermes runs in the container as your own user, so the files it writes in the profile
stay yours. When the wizard runs as root, Hermes runs as uid 10000 instead (the image
does not accept uid 0): the profile's files then belong to uid 10000, and root can still
read and edit them.
"""

#: The one rule for text fields, on every step that has them.
FIELDS_HELP = """
## Text fields
A step never opens inside a text field, so its letter keys always work. **Tab** (or
**Enter**, while the footer offers "Edit") enters the fields and moves between them;
**Esc** leaves a field. Inside a field, letters type: use **Enter** (Next), **F1** (help),
**F2** (step list) and **Ctrl+Q** (quit) there.
"""

HELP: dict[StepId, str] = {
    StepId.RUNTIME: """\
## What this step does
Finds a container runtime that speaks the Docker Engine API (Docker, Podman, a remote
engine in `DOCKER_HOST`, the current Docker context) or Apple Container, and checks that
it answers. Hermes runs entirely inside a container: nothing else is installed on this host.

## Troubleshooting: the wizard gets stuck at "Runtime check"
The container runtime is not reachable. Common causes:
- Docker is not running. Start it with `systemctl start docker` (Linux), or start
  Docker Desktop (macOS, Windows).
- On Linux, the socket at `/var/run/docker.sock` is not accessible. Add yourself to the
  `docker` group with `sudo usermod -aG docker $USER`, then log out and back in; or use
  an engine of your own (rootless Podman or rootless Docker) through `DOCKER_HOST`.
  Never `chmod` the socket: that gives every user of the machine root.
- On Apple Silicon you can install Apple Container instead of Docker Desktop.
""",
    StepId.PULL: """\
## What this step does
Pulls the pinned Hermes image, with progress for every layer. It is idempotent: if the
image is already up to date, it completes at once without downloading again.

## Troubleshooting: the pull fails
- Check the internet connection of the machine that runs the engine.
- Behind a corporate proxy, configure the engine's proxy (Docker Desktop → Settings →
  Resources → Proxies; on Linux, an `HTTP_PROXY`/`HTTPS_PROXY` drop-in for the docker
  service).
- **"manifest unknown"**: the pinned image tag was removed from the registry. Upgrade
  hermes-tui to the latest version, which references the correct tag.
""",
    StepId.PROFILE: """\
## What this step does
Hermes keeps each agent's configuration, memory and channels in a named profile. The
wizard creates the profile folder in Hermes's own layout under
`<app data>/hermes/profiles/<name>/`. An existing profile is reused: its files are kept.

## Name rules
Lowercase letters, digits, hyphens and underscores; 1 to 64 characters; must start with a
letter or digit. Example: `my-assistant`. Hermes reserves `hermes`, `test`, `tmp`, `root`
and `sudo`.

## Troubleshooting: profile creation fails with "invalid name"
Profile names must match `^[a-z0-9][a-z0-9_-]{0,63}$`. Avoid uppercase letters, spaces,
and special characters other than `-` and `_`.
""" + FIELDS_HELP,
    StepId.CHANNELS: """\
## What this step does
Choose the messaging platforms this profile connects to. Leaving all unchecked is fine:
add channels later from the dashboard or by re-running this step.

## Keys
- **Space** ticks or unticks the highlighted platform (`[x]` ticked, `[ ]` not);
  **Enter** is Next.
- **Tab** moves to the ticked platforms' fields; **Esc** goes back to the list.
- **Ctrl+R** shows or hides the secret fields.

## Where credentials go
Tokens and passwords are written only to the profile's `.env` file (readable by you
alone, mode 0600). They are never stored in the progress file or shown in logs.
An allow-list limits who may talk to the agent: leave it empty to decide later.
""" + FIELDS_HELP,
    StepId.BRIDGE: """\
## What this step does
The LLM bridge tells Hermes which models to use. The wizard lists the models your
OpenAI-compatible router serves (Backend.AI GO, Ollama, vLLM, llama.cpp, LM Studio,
LiteLLM…), shows the base URL Hermes will call, and syncs the models into the profile
with a Synced / Pending badge each.

## Keys
- **r** lists the models again; **↑ ↓** move in the list; **Space** makes the highlighted
  model the default (★); **Enter** is Next.
- **Tab** enters the URL and API-key fields; **Enter** there lists again when you changed
  them; **Esc** leaves a field.

## Troubleshooting: "No models loaded"
Load at least one model in your router before reaching this step. The bridge syncs
whatever is loaded when the step is displayed.
""" + FIELDS_HELP,
    StepId.MIGRATION: """\
## What this step does
If you used OpenClaw (`~/.openclaw`), this step offers to migrate memories, skills and
channel bindings into the new profile. It first shows a dry run and a diff; nothing is
written until you apply (**a**, then **u** undoes it). Next without applying records the
step as a dry run. The OpenClaw side is never changed.

This step is skipped automatically when the Claw gateway is not running, no Claw
configuration directory exists, and Claw has no channels configured.

## Troubleshooting: an error about missing config
`CLAW_CONFIG_NOT_FOUND` means the path `~/.openclaw` does not exist or is not a
directory. If you have never used Claw, press **x** (Skip step) to go on without migration.

## Troubleshooting: "an apply … was interrupted"
An apply was stopped part of the way (the program was killed, the machine lost power).
Press **u** to undo it: the profile goes back to exactly how it was before. Or press **f**
to finish it: the rest of the files that apply planned are written as planned. Nothing is
planned until you choose.
""",
    StepId.DONE: """\
## What this step does
Summarises what was set up. From here you start the gateway (**g**) and open the
dashboard (**d**), which shows gateway status, channels and connected models. Setup is
complete once the gateway has started: until then, the wizard opens here again. The
arrow keys and PgUp/PgDn scroll this page.

To change channel credentials or model assignments later, re-run the relevant step:
press **s** to focus the step list, pick the step and press Enter.
""" + API_HELP,
}

DASHBOARD_HELP = """\
## The dashboard
Shows the gateway of the current profile (state, uptime, health and Hermes version,
restarts), its CPU and memory, how to call its API, the channels it connects to and the
models it uses, every profile with its gateway's state, the last health checks (one each
time the gateway changed) and its log. It follows the engine's events, so it changes as
soon as the container does; nothing polls.

## Keys
- **s** starts the gateway (shown while it is stopped), **x** stops it (shown while it is
  up), **r** restarts it; **l** shows or hides the log panel.
- **k** shows or hides the API key; **c** copies the example call to the clipboard (OSC 52,
  which most terminals support). The copied call reads the key from `$API_SERVER_KEY`;
  only while the key is shown (k) does it carry the key itself.
- **w** re-runs one wizard step (for example new channel credentials or models), then
  comes back here.
- **p** switches to another profile (the list says each gateway's state); **n** sets up a
  new one.
""" + API_HELP
