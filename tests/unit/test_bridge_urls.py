"""Router URLs: what the user typed → the API root, and host URL → the container's URL."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hermes_tui.bridge.router import (
    CONTAINER_HOST,
    RouterError,
    RouterErrorKind,
    container_base_url,
    initial_router_url,
    is_loopback_host,
    normalise_base_url,
    uses_host_network,
)
from hermes_tui.engine.detect import (
    SOURCE_APPLE,
    SOURCE_COLIMA,
    SOURCE_DESKTOP,
    SOURCE_ENV,
    SOURCE_PODMAN_USER,
    SOURCE_RANCHER,
    SOURCE_SOCKET,
    EngineInfo,
    Product,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("127.0.0.1:11434", "http://127.0.0.1:11434/v1"),
        ("  http://localhost:1234/v1/  ", "http://localhost:1234/v1"),
        ("http://localhost:1234/v1/models", "http://localhost:1234/v1"),
        ("http://localhost:1234/v1/models/", "http://localhost:1234/v1"),
        ("http://localhost:8000/models", "http://localhost:8000/v1"),
        ("https://api.example.com", "https://api.example.com/v1"),
        ("https://api.example.com/", "https://api.example.com/v1"),
        ("http://litellm.lan:4000/api/openai", "http://litellm.lan:4000/api/openai"),
        ("HTTP://Router.LAN:8000", "http://router.lan:8000/v1"),
        ("[::1]:8080", "http://[::1]:8080/v1"),
        ("localhost", "http://localhost/v1"),
    ],
)
def test_typed_url_becomes_the_api_root(typed, expected):
    assert normalise_base_url(typed) == expected


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://host/v1", "scheme"),
        ("http://", "no host"),
        ("http://:8080/v1", "no host"),
        ("http://host:99999", "port"),
        ("http://host:abc", "port"),
        ("http://user:pw@host:8000/v1", "credentials"),
        ("http://host:8000/v1?key=1", "query"),
        ("my router", "spaces"),
        ("http://host:0/v1", "port 0"),
    ],
)
def test_garbage_url_is_refused_with_the_reason(typed, why):
    with pytest.raises(RouterError) as caught:
        normalise_base_url(typed)
    assert caught.value.kind is RouterErrorKind.INVALID_URL
    assert why in caught.value.message
    assert "http://127.0.0.1:11434/v1" in caught.value.fix


_hosts = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "router.lan", "10.0.0.7"])
_ports = st.one_of(st.none(), st.integers(1, 65535))
_paths = st.sampled_from(["", "/", "/v1", "/v1/", "/v1/models", "/api/openai/", "/models"])


@given(st.sampled_from(["", "http://", "https://"]), _hosts, _ports, _paths)
def test_normalising_twice_changes_nothing(scheme, host, port, path):
    typed = f"{scheme}{host}{'' if port is None else f':{port}'}{path}"
    once = normalise_base_url(typed)
    assert normalise_base_url(once) == once
    assert not once.endswith(("/", "/models"))


@pytest.mark.parametrize(
    ("cli", "saved", "env", "expected"),
    [
        ("http://a:1/v1", "http://b:2/v1", {"OPENAI_BASE_URL": "http://c:3/v1"}, "http://a:1/v1"),
        (None, "http://b:2/v1", {"OPENAI_BASE_URL": "http://c:3/v1"}, "http://b:2/v1"),
        ("  ", None, {"OPENAI_BASE_URL": " http://c:3/v1 "}, "http://c:3/v1"),
        (None, None, {}, None),
    ],
)
def test_initial_url_prefers_flag_then_saved_state_then_environment(cli, saved, env, expected):
    assert initial_router_url(cli, saved, env) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:11434/v1", f"http://{CONTAINER_HOST}:11434/v1"),
        ("http://127.1.2.3:8000/v1", f"http://{CONTAINER_HOST}:8000/v1"),
        ("http://localhost:1234/v1", f"http://{CONTAINER_HOST}:1234/v1"),
        ("http://[::1]:8080/v1", f"http://{CONTAINER_HOST}:8080/v1"),
        ("http://0.0.0.0:4000/api/openai", f"http://{CONTAINER_HOST}:4000/api/openai"),
        ("https://localhost/v1", f"https://{CONTAINER_HOST}/v1"),
        ("https://api.example.com/v1", "https://api.example.com/v1"),
        ("http://192.168.1.20:11434/v1", "http://192.168.1.20:11434/v1"),
    ],
)
def test_loopback_router_is_reached_through_host_docker_internal(url, expected):
    assert container_base_url(url, host_networking=False) == expected


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:11434/v1", "http://localhost:1234/v1", "https://api.example.com/v1"]
)
def test_host_networking_keeps_the_url(url):
    assert container_base_url(url, host_networking=True) == url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", True), ("::", True), ("LOCALHOST", True), ("app.localhost", True),
     ("::ffff:127.0.0.1", True), ("10.0.0.1", False), ("example.com", False),
     ("localhost.example.com", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


def _engine(source: str, url: str, product: Product = Product.DOCKER, os_: str = "linux"):
    return EngineInfo(product=product, version="27.0", api_version="1.47", os=os_,
                      arch="amd64", url=url, source=source)


@pytest.mark.parametrize(
    ("engine", "system", "expected"),
    [
        (_engine(SOURCE_SOCKET, "unix:///var/run/docker.sock"), "Linux", True),
        (_engine(SOURCE_PODMAN_USER, "unix:///run/user/1000/podman/podman.sock",
                 Product.PODMAN), "Linux", True),
        (_engine(SOURCE_ENV, "tcp://127.0.0.1:2375"), "Linux", True),
        (_engine(SOURCE_ENV, "tcp://build-box.lan:2376"), "Linux", False),
        (_engine(SOURCE_DESKTOP, "unix:///home/u/.docker/desktop/docker.sock"), "Linux", False),
        (_engine("Docker context 'desktop-linux'",
                 "unix:///home/u/.docker/desktop/docker.sock"), "Linux", False),
        (_engine(SOURCE_ENV, "unix:///home/u/.docker/desktop/docker.sock"), "Linux", False),
        (_engine(SOURCE_COLIMA, "unix:///home/u/.colima/default/docker.sock"), "Linux", False),
        (_engine(SOURCE_RANCHER, "unix:///home/u/.rd/docker.sock"), "Linux", False),
        (_engine(SOURCE_SOCKET, "unix:///var/run/docker.sock"), "Darwin", False),
        (_engine(SOURCE_DESKTOP, "npipe:////./pipe/docker_engine"), "Windows", False),
        (_engine(SOURCE_APPLE, "container", Product.APPLE), "Darwin", False),
        (_engine(SOURCE_SOCKET, "npipe:////./pipe/docker_engine", os_="windows"), "Linux", False),
        (None, "Linux", True),
        (None, "Darwin", False),
    ],
)
def test_host_network_only_for_a_native_linux_engine(engine, system, expected):
    assert uses_host_network(engine, system=system) is expected


def test_bridge_imports_neither_textual_nor_aiohttp_nor_ruamel(run_python):
    snippet = (
        "import json, sys\n"
        "import hermes_tui.bridge.router, hermes_tui.bridge.sync\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'textual', 'aiohttp', 'aiodocker', 'ruamel'})))\n"
    )
    done = run_python("-c", snippet)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
