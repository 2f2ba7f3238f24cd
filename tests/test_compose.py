"""The several-instance deployment (docker/compose.yaml + docker/nginx.conf) is wired right.

Docker is not available where the tests run, so this reads the files the way compose and nginx
would and checks what connects them: services, start order, health checks, ports, volumes,
variable names the bot really reads, and the proxy's upstreams.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.web.server import MAX_BODY

ROOT = Path(__file__).parent.parent
BOTS = ("bot-a", "bot-b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    return data


@pytest.fixture(scope="module")
def nginx() -> str:
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    return re.sub(r"#[^\n]*", "", conf)  # comments out, so only directives are matched


def settings_names() -> set[str]:
    source = (ROOT / "handlers" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"values\.get\(\"([A-Z][A-Z0-9_]+)\"", source))


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def healthcheck_cmd(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_services_and_start_order(compose: dict[str, Any]) -> None:
    s = compose["services"]
    assert {"db", "migrate", *BOTS, "proxy"} <= set(s)
    assert s["db"]["image"].startswith("postgres:15")
    assert "pg-data:/var/lib/postgresql/data" in s["db"]["volumes"]
    assert "pg_isready" in healthcheck_cmd(s["db"])
    assert s["migrate"]["command"] == ["elaas-bot", "db", "migrate"]
    assert s["migrate"]["restart"] == "no"
    assert depends(s["migrate"]) == {"db": "service_healthy"}
    for bot in BOTS:
        assert depends(s[bot]) == {"db": "service_healthy",
                                   "migrate": "service_completed_successfully"}
    assert depends(s["proxy"]) == {b: "service_healthy" for b in BOTS}
    assert depends(s["https"]) == {"proxy": "service_healthy"}
    assert "https" in s["https"]["profiles"]  # TLS in front is optional


def test_bots_are_replicas_on_the_database(compose: dict[str, Any]) -> None:
    s = compose["services"]
    a, b = (s[n] for n in BOTS)
    assert a["environment"] == b["environment"] and a["image"] == b["image"]
    env = a["environment"]
    url = env["ELAAS_DATABASE_URL"]
    assert re.fullmatch(r"postgresql://elaas:\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/elaas", url)
    assert url.split("@db:5432/")[1] == s["db"]["environment"]["POSTGRES_DB"]
    assert s["migrate"]["environment"]["ELAAS_DATABASE_URL"] == url
    assert env["ELAAS_FILE_SECRET"].startswith("${ELAAS_FILE_SECRET:?")  # required, shared
    assert set(env) <= settings_names(), set(env) - settings_names()
    assert a["env_file"] == "../.env"
    # Each instance keeps its own data dir (its lock, local journal): never one volume for two.
    vols = [v for n in BOTS for v in s[n]["volumes"]]
    assert [v.split(":")[1] for v in vols] == ["/data", "/data"] and len(set(vols)) == 2
    assert env["ELAAS_DATA_DIR"] == "/data"
    assert {v.split(":")[0] for v in vols} <= set(compose["volumes"])
    for bot in BOTS:
        assert "ports" not in s[bot]  # reached only through the proxy
        port = s[bot]["environment"]["PORT"]
        assert f"127.0.0.1:{port}/healthz" in healthcheck_cmd(s[bot])
    server = (ROOT / "handlers" / "web" / "server.py").read_text()
    assert 'add_get("/healthz"' in server


def test_proxy_balances_over_both_bots(compose: dict[str, Any], nginx: str) -> None:
    s = compose["services"]
    proxy = s["proxy"]
    assert proxy["ports"] == ["127.0.0.1:8080:8080"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert (ROOT / "docker" / "nginx.conf").exists()
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", nginx)
    assert upstream is not None
    servers = re.findall(r"server\s+([\w.-]+):(\d+)", upstream.group(2))
    assert servers == [(b, s[b]["environment"]["PORT"]) for b in BOTS]
    passes = re.findall(r"proxy_pass\s+http://(\w+);", nginx)
    assert passes and set(passes) == {upstream.group(1)}
    listen = re.search(r"listen\s+(\d+);", nginx)
    assert listen is not None and proxy["ports"][0].endswith(f":{listen.group(1)}")
    assert f"127.0.0.1:{listen.group(1)}/nginx-health" in healthcheck_cmd(proxy)
    assert "location = /nginx-health" in nginx
    body = re.search(r"client_max_body_size\s+(\d+)m;", nginx)
    assert body is not None and int(body.group(1)) * 1024 * 1024 <= MAX_BODY
    assert re.search(r"^\s*access_log\s+off;", nginx, re.M)  # tokens ride in paths
    assert re.search(r"^\s*pid\s+/tmp/", nginx, re.M)  # read-only root
    hook = re.search(r"location ~ \^/\(line\|telegram\)/webhook\$ \{([^}]*)\}", nginx)
    assert hook is not None and "non_idempotent" in hook.group(1)
    rest = re.search(r"location / \{([^}]*)\}", nginx)
    assert rest is not None and "non_idempotent" not in rest.group(1)


def test_env_example_documents_the_compose_secrets() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    compose = (ROOT / "docker" / "compose.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+):\?", compose))
    assert needed >= {"POSTGRES_PASSWORD", "ELAAS_FILE_SECRET"}
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert needed <= listed, needed - listed
