"""Start the test OpenID Provider (``provider.mjs``, npm package ``oidc-provider``) on loopback.

``make install-test`` installs it (``npm ci`` in this folder). Without node or the installed package
the tests that need it are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CLIENT_ID = "ticketnet-tests"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _require_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is missing (apt-get install -y nodejs)"
    elif not (HERE / "node_modules" / "oidc-provider").is_dir():
        problem = "oidc-provider is not installed: run make install-test (npm ci in tests/oidc)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    assert node is not None
    return node


@contextmanager
def openid_provider(redirect_uris: list[str], post_logout_redirect_uris: list[str] | None = None,
                    port: int | None = None) -> Iterator[dict[str, Any]]:
    """Run the provider until the block ends; yields the settings for ``OIDC_PROVIDERS``."""
    node = _require_node()
    port = port or free_port()
    clients = [{
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris or [],
        "grant_types": ["authorization_code"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }]
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENTS": json.dumps(clients), "NODE_ENV": "test"}
    # The provider's warnings go to a file: a pipe nobody reads could fill up and block it.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
    command = [node, str(HERE / "provider.mjs")]
    process = subprocess.Popen(command, cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=log, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("ready") or process.poll() is not None:
                break
        if not line.startswith("ready"):
            process.kill()
            log.seek(0)
            raise RuntimeError(f"the OpenID Provider did not start: {log.read()}")
        issuer = line.split()[1]
        yield {
            "issuer": issuer,
            "port": port,
            "settings": {"discovery_url": f"{issuer}/.well-known/openid-configuration", "client_id": CLIENT_ID,
                         "client_secret": CLIENT_SECRET, "label": "Portail test", "scope": "openid"},
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()
