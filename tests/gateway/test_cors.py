"""CORS is off unless origins are configured; then preflights allow the SDK headers."""

from __future__ import annotations

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.app import create_app

KEY = "cs-sk-cors-test-0123456789"


def app_with(tmp_path, origins):
    registry = ProviderRegistry(tmp_path / "c.json")
    registry.set_server(cors_origins=origins)
    return create_app(registry, api_key=KEY)


async def test_cors_off_by_default(tmp_path):
    client = app_with(tmp_path, []).test_client()
    response = await client.get("/health", headers={"origin": "http://example.test"})
    assert "access-control-allow-origin" not in response.headers
    preflight = await client.options(
        "/v1/messages",
        headers={"origin": "http://example.test", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 403


async def test_configured_origin_gets_preflight_and_headers(tmp_path):
    client = app_with(tmp_path, ["http://localhost:3000"]).test_client()
    preflight = await client.options(
        "/v1/messages",
        headers={"origin": "http://localhost:3000", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 204
    allowed = preflight.headers["access-control-allow-headers"]
    assert "x-api-key" in allowed and "anthropic-version" in allowed
    response = await client.get(
        "/v1/models", headers={"origin": "http://localhost:3000", "x-api-key": KEY}
    )
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = await client.get("/v1/models", headers={"origin": "http://evil.test", "x-api-key": KEY})
    assert "access-control-allow-origin" not in other.headers
