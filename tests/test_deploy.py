"""Deployment files: tested pins in the image, hardened compose, no secrets in the context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("name", ["compose.yaml", "compose.single.yaml"])
def test_compose_services_are_hardened(name: str) -> None:
    compose = yaml.safe_load((ROOT / "docker" / name).read_text())
    for name, service in compose["services"].items():
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["read_only"] is True, name
        assert any(t.startswith("/tmp") for t in service["tmpfs"]), name
        assert "privileged" not in service and service.get("cap_add", []) in (
            [], ["NET_BIND_SERVICE"]), name


def test_single_compose_keeps_the_embedded_store() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.single.yaml").read_text())
    bot = compose["services"]["bot"]
    assert "elaas-data:/data" in bot["volumes"] and "cap_add" not in bot
    assert bot["environment"]["ELAAS_DATA_DIR"] == "/data"
    assert set(compose["volumes"]) >= {"elaas-data", "caddy-data", "caddy-config"}


def test_image_installs_the_tested_pins() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "COPY pyproject.toml README.md constraints.txt" in dockerfile
    assert "pip install -c constraints.txt -e ." in dockerfile
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$",
                           (ROOT / "constraints.txt").read_text(), re.M))
    deps = re.findall(r'^  "([A-Za-z0-9_.\-]+)(?:\[[^]]*\])?>=([^,"]+)',
                      (ROOT / "pyproject.toml").read_text(), re.M)
    norm = {k.lower().replace("_", "-"): v for k, v in pins.items()}
    for name, floor in deps:
        assert name.lower().replace("_", "-") in norm, name
        pinned = tuple(int(x) for x in re.findall(r"\d+", norm[name.lower().replace("_", "-")]))
        assert pinned[:len(floor.split("."))] >= tuple(int(x) for x in floor.split(".")), name


def test_docker_context_leaves_secrets_and_data_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "data/", ".venv/", "exports/", ".git"):
        assert entry in ignored, entry
