"""The scaled topology's compose file (deploy/docker-compose.scale.yml) and HAProxy config
(deploy/haproxy/haproxy.cfg) agree with each other and with the apps: no Docker engine runs
here, so this is what checks the compose file beyond YAML syntax."""

from __future__ import annotations

import ipaddress
import subprocess
from urllib.parse import urlsplit

import pytest

from balto.core.config import HttpConfig
from balto.core.forwarded import TrustedProxies
from balto.partnumber.config import DEFAULT_PORT as PARTNUMBER_PORT
from tests.scale.haproxy import CONFIG, ROOT, binds, haproxy_binary, sections, servers

yaml = pytest.importorskip("yaml", reason="PyYAML (extra de teste) não instalado")

COMPOSE = ROOT / "deploy" / "docker-compose.scale.yml"
SERVE = ["balto", "partnumber", "serve"]
WORKER = ["balto", "partnumber", "worker"]


@pytest.fixture(scope="module")
def compose() -> dict:
    loaded: dict = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def config() -> str:
    return CONFIG.read_text()


def instances(compose: dict) -> dict[str, dict]:
    """The services built from the repo's Dockerfile."""
    return {name: s for name, s in compose["services"].items() if s.get("build") == ".."}


def test_the_topology_has_every_piece_of_the_issue(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["haproxy"]["image"].startswith("haproxy:2.6")  # what the tests run
    commands = [s.get("command") for s in instances(compose).values()]
    assert commands.count(None) == 2  # the image's CMD: balto serve
    assert commands.count(SERVE) == 2 and commands.count(WORKER) == 2
    assert (COMPOSE.parent / instances(compose)["balto-1"]["build"] / "Dockerfile").is_file()


def test_every_instance_reaches_the_compose_postgres_and_redis(compose):
    postgres = compose["services"]["postgres"]["environment"]
    for name, service in instances(compose).items():
        env = service["environment"]
        database = urlsplit(env["DATABASE_URL"])
        assert database.scheme == "postgresql" and database.hostname == "postgres", name
        assert database.username == postgres["POSTGRES_USER"], name
        assert database.password == postgres["POSTGRES_PASSWORD"], name
        assert database.path == f"/{postgres['POSTGRES_DB']}" and database.port == 5432, name
        redis = urlsplit(env["REDIS_URL"])
        assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379), name
        for needed in ("postgres", "redis"):
            assert service["depends_on"][needed] == {"condition": "service_healthy"}, name


def test_haproxy_backends_name_the_compose_services_on_their_ports(compose, config):
    services = compose["services"]
    for backend, command, default_port in (
        ("balto", None, HttpConfig().port),
        ("partnumber", SERVE, PARTNUMBER_PORT),
    ):
        listed = servers(config)[backend]
        serving = {n for n, s in instances(compose).items() if s.get("command") == command}
        assert {server.host for server in listed} == serving, backend
        for server in listed:
            assert server.name == server.host  # the tests address servers by this name
            env = services[server.host]["environment"]
            assert server.port == int(env["PORT"]) == default_port, server
            assert env["HOST"] == "0.0.0.0", server  # reachable from the haproxy container
            # HAProxy's PROXY header names each client: the default per-address cap holds
            assert "MAX_CONNECTIONS_PER_ADDRESS" not in env, server
        assert binds(config)[backend] == default_port  # clients keep the ports they know
    assert set(servers(config)) == {"balto", "partnumber"}


def test_haproxy_publishes_its_frontends_and_mounts_the_repo_config(compose, config):
    haproxy = compose["services"]["haproxy"]
    published = {int(port.rsplit(":", 1)[1]) for port in haproxy["ports"]}
    assert published == set(binds(config).values())
    assert "127.0.0.1:8404:8404" in haproxy["ports"]  # the status page stays local
    (mount,) = haproxy["volumes"]
    source, target, _ = mount.split(":")
    assert (COMPOSE.parent / source).resolve() == CONFIG
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"  # where the official image reads it


def test_health_checks_agree_between_compose_and_haproxy(compose, config):
    services = compose["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name, service in instances(compose).items():
        expected = ["NONE"] if service.get("command") == WORKER else ["CMD", "balto", "health"]
        assert service["healthcheck"]["test"] == expected, name  # the image's probes PORT
    parsed = sections(config)
    for backend in ("balto", "partnumber"):
        lines = parsed[("backend", backend)]
        assert "option httpchk" in lines
        assert any(line.startswith("http-check send meth GET uri /health ") for line in lines)
        assert any(line.startswith("http-check expect ") for line in lines)
    assert any(" check " in f" {line} " for line in parsed[("defaults", "")])


def test_haproxy_config_is_sticky_for_engine_io_and_tunnels_websockets(config):
    parsed = sections(config)
    partnumber = parsed[("backend", "partnumber")]
    assert any(line.startswith("cookie BALTO_PN insert") for line in partnumber)
    cookies = [line.split(" cookie ")[1] for line in partnumber if line.startswith("server ")]
    assert len(set(cookies)) == len(cookies) == 2
    assert "timeout tunnel 1h" in parsed[("defaults", "")]
    assert "mode http" in parsed[("defaults", "")]


def test_haproxy_accepts_the_config():
    binary = haproxy_binary()
    if binary is None:
        pytest.skip("haproxy ausente (apt-get install haproxy; make system-deps)")
    # The compose hosts do not resolve here: HAProxy warns and still calls the file valid.
    done = subprocess.run([binary, "-c", "-f", str(CONFIG)], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()


def test_the_instances_trust_the_containers_and_haproxy_names_the_client(compose, config):
    """Every serving instance trusts X-Forwarded-For from exactly the range the compose network
    gives its containers (HAProxy is one: it joins no other network), never from the gateway,
    where connections through Docker's userland proxy come from."""
    (network,) = compose["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(network["subnet"])
    containers = ipaddress.ip_network(network["ip_range"])
    gateway = ipaddress.ip_address(network["gateway"])
    assert containers.subnet_of(subnet) and gateway in subnet
    assert "networks" not in compose["services"]["haproxy"]  # on the default network only
    expected = TrustedProxies((containers,))
    assert not expected.trusts(str(gateway))
    serving = {server.host for listed in servers(config).values() for server in listed}
    for name in serving:
        env = compose["services"][name]["environment"]
        http = HttpConfig.from_env({key: str(value) for key, value in env.items()})
        assert http.trusted_proxies == expected, name
    # Appended to whatever the client sent (never `if-none`: that would pass a forged header).
    defaults = sections(config)[("defaults", "")]
    assert "option forwardfor" in defaults
    # The client's address at accept too, for every server (health checks: LOCAL).
    (default_server,) = [line for line in defaults if line.startswith("default-server ")]
    assert "send-proxy-v2" in default_server.split()
    for (kind, _), lines in sections(config).items():
        assert not any("forwardfor" in line and "if-none" in line for line in lines), kind
