"""The local stack's operator key: created once in the runtime.apikeys format, kept, replaced if revoked."""

from __future__ import annotations

import stat
from pathlib import Path

from civicqc.stack import app
from civicqc.stack.context import StackContext, StackLayout
from producer_api.security import KeyRing
from runtime.apikeys import KeyRole, read_keys, write_keys


def _ctx(root: Path) -> StackContext:
    return StackContext(StackLayout(root), ports={"api": 8000})


def test_first_start_creates_an_operator_key_the_api_accepts(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    assert app.operator_key(ctx) is None
    key = app.ensure_operator_key(ctx)
    record = KeyRing(app.api_keys_file(ctx)).lookup(key)
    assert record is not None and record.role is KeyRole.OPERATOR and record.tenant == "*"
    for path in (app.api_keys_file(ctx), ctx.layout.secrets / "api-key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key not in app.api_keys_file(ctx).read_text()
    assert app.operator_key(ctx) == key


def test_a_second_start_keeps_the_key(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    key = app.ensure_operator_key(ctx)
    assert app.ensure_operator_key(ctx) == key
    assert len(read_keys(app.api_keys_file(ctx)).keys) == 1


def test_a_revoked_key_is_replaced_and_other_keys_stay(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    old = app.ensure_operator_key(ctx)
    keys = read_keys(app.api_keys_file(ctx))
    write_keys(app.api_keys_file(ctx), keys.model_copy(update={"keys": []}))
    new = app.ensure_operator_key(ctx)
    assert new != old
    ring = KeyRing(app.api_keys_file(ctx))
    assert ring.lookup(new) is not None and ring.lookup(old) is None


def test_the_key_is_published_to_clients_not_to_services(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    key = app.ensure_operator_key(ctx)
    api = app.api_service()
    published = dict(api.env(ctx))
    assert published[app.API_KEY_ENV] == key
    ctx.env.update(published)
    spec = api.spec(ctx)
    assert app.API_KEY_ENV not in spec.env
    assert spec.env["AUTH_ENABLED"] == "true"
    assert spec.env["API_KEYS_FILE"] == str(app.api_keys_file(ctx))
    consumer = app.consumer_services(1)[0].spec(ctx)
    assert app.API_KEY_ENV not in consumer.env
