"""API keys: reads stay anonymous; writes need a key with the write scope (401 without a
key, 403 for a read-only or revoked key), and keys are stored only as hashes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth.service import authenticate, revoke_key
from app.cli import main as cli_main
from app.models import ApiKey
from tests.curation_support import bearer, cite, new_key

PROBLEM = "application/problem+json"
NEW_ORG = {"name": "Auth Test Lab", "kind": "lab", "citations": [cite()]}


def _assert_auth_problem(response: object, status: int, error: str | None) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    challenge = response.headers["www-authenticate"]  # type: ignore[attr-defined]
    assert challenge.startswith('Bearer realm="aifacts"')
    if error:
        assert f'error="{error}"' in challenge


def test_reads_are_anonymous(api: TestClient) -> None:
    assert api.get("/v1/organizations/deepseek").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/organizations"),
        ("POST", "/v1/documents"),
        ("PATCH", "/v1/organizations/deepseek"),
        ("DELETE", "/v1/organizations/deepseek"),
    ],
)
def test_anonymous_write_is_401(api: TestClient, method: str, path: str) -> None:
    response = api.request(method, path, json=NEW_ORG)
    _assert_auth_problem(response, 401, None)


def test_unknown_or_malformed_key_is_401(api: TestClient) -> None:
    for key in ("nope", "af_abcdefgh_" + "x" * 43):
        response = api.post("/v1/organizations", json=NEW_ORG, headers=bearer(key))
        _assert_auth_problem(response, 401, "invalid_token")


def test_read_only_key_is_403(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "reader", ["read"])
    response = api.post("/v1/organizations", json=NEW_ORG, headers=bearer(key))
    _assert_auth_problem(response, 403, "insufficient_scope")
    assert api.get("/v1/organizations/auth-test-lab").status_code == 404


def test_revoked_key_is_403(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "leaver", ["write"])
    with Session(engine) as session:
        assert revoke_key(session, key)
        session.commit()
    response = api.post("/v1/organizations", json=NEW_ORG, headers=bearer(key))
    _assert_auth_problem(response, 403, None)


def test_write_key_writes_and_admin_implies_write(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "admin", ["admin"])
    response = api.post("/v1/organizations", json=NEW_ORG, headers=bearer(key))
    assert response.status_code == 201, response.text


def test_keys_are_stored_as_hashes(engine: Engine) -> None:
    key = new_key(engine, "hashed", ["write"])
    secret = key.split("_", 2)[2]
    with Session(engine) as session:
        rows = session.exec(select(ApiKey)).all()
        assert all(secret not in (r.secret_sha256, r.id, r.name) for r in rows)
        principal = authenticate(session, key)
        assert principal is not None
        assert principal.name == "hashed"
        assert authenticate(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None


def test_cli_creates_lists_and_revokes_keys(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert cli_main(["keys", "create", "cli-curator", "--scope", "write"]) == 0
        out = capsys.readouterr()
        key = out.out.strip()
        assert key.startswith("af_")
        assert cli_main(["keys", "list"]) == 0
        listed = capsys.readouterr()
        assert "cli-curator" in listed.err
        assert key.split("_", 2)[2] not in listed.err + listed.out
        assert cli_main(["keys", "revoke", key[3:11]]) == 0
        with Session(engine) as session:
            principal = authenticate(session, key)
            assert principal is not None
            assert principal.revoked
    finally:
        get_settings.cache_clear()


def test_keys_never_reach_the_logs(
    api: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key(engine, "logged", ["write"])
    with caplog.at_level("DEBUG"):
        api.post("/v1/organizations", json={"bad": 1}, headers=bearer(key))
        api.get("/v1/organizations/deepseek", headers=bearer(key))
    assert key not in caplog.text
    assert key.split("_", 2)[2] not in caplog.text


def test_openapi_marks_writes_with_the_bearer_scheme(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiKey"]["description"],
    }
    paths = spec["paths"]
    for path in (
        "/v1/organizations",
        "/v1/models",
        "/v1/chips",
        "/v1/chip-support",
        "/v1/investments",
        "/v1/documents",
    ):
        assert paths[path]["post"]["security"] == [{"apiKey": []}]
        assert "security" not in paths[path]["get"]
        if path != "/v1/documents":
            for method in ("patch", "delete"):
                assert paths[path + "/{id}"][method]["security"] == [{"apiKey": []}]
            assert "get" in paths[path + "/{id}/history"]
    assert "get" in paths["/v1/changes"]
