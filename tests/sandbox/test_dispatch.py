"""Dispatcher details in process: original-bytes retries, the lease, delay fault, config."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.config import ConfigError, SandboxConfig
from sandbox.dispatcher import Dispatcher

from .conftest import InProcess, Receiver, order_payload


def test_retry_without_resign_resends_the_original_headers(
    sbx: InProcess, receiver: Receiver
) -> None:
    app = create_app(
        sbx.app.ctx.config.with_(webhook_retry_resign=False, webhook_retry_schedule=(0.0, 0.0, 0.0))
    )
    try:
        other = InProcess(app, sbx.clock)
        receiver.scripts["/orig"] = [500, 503]
        other.ok("/v2/order", order_payload("ORIG1", webhookUrl=receiver.url("/orig")))
        other.control("POST", "/orders/ORIG1/pay")
        for _ in range(3):
            other.run_dispatcher()
        hits = receiver.got("/orig")
        assert len(hits) == 3
        assert len({h["headers"]["BinancePay-Signature"] for h in hits}) == 1
        assert len({h["headers"]["BinancePay-Timestamp"] for h in hits}) == 1
        other.run_dispatcher()
        assert len(receiver.got("/orig")) == 3  # delivered: no more attempts
    finally:
        app.close()


def test_delay_fault_holds_the_delivery(sbx: InProcess, receiver: Receiver) -> None:
    sbx.control("POST", "/webhook-faults", {"mode": "delay", "seconds": 30})
    sbx.ok("/v2/order", order_payload("DLY1", webhookUrl=receiver.url("/delay")))
    sbx.control("POST", "/orders/DLY1/pay")
    sbx.run_dispatcher()
    assert receiver.got("/delay") == []
    sbx.clock.advance(30_000)
    sbx.run_dispatcher()
    assert len(receiver.got("/delay")) == 1


def test_only_one_dispatcher_holds_the_lease(sbx: InProcess) -> None:
    first, second = Dispatcher(sbx.app.ctx), Dispatcher(sbx.app.ctx)
    assert first.hold_lease()
    assert not second.hold_lease()
    sbx.clock.advance(3001)  # lease ran out (holder died)
    assert second.hold_lease()
    assert not first.hold_lease()


def test_fault_spec_is_validated(sbx: InProcess) -> None:
    status, body = sbx.control("POST", "/faults", {"mode": "explode"})
    assert status == 400 and "mode" in body["error"]
    status, body = sbx.control("POST", "/webhook-faults", {"mode": "drop", "count": 0})
    assert status == 400


def test_config_from_env_defaults_and_overrides(tmp_path: Path) -> None:
    cfg = SandboxConfig.from_env({})
    assert (cfg.host, cfg.port, cfg.public_url) == ("127.0.0.1", 8090, "http://127.0.0.1:8090")
    assert cfg.timestamp_window_ms == 5000 and cfg.merchant_id == 352520168
    assert cfg.webhook_retry_schedule == (15, 30, 60, 300, 1800, 3600)
    assert len(cfg.api_key) == 64 and cfg.api_key.isalnum() and cfg.api_key.islower()
    assert len(cfg.secret_key) == 64
    assert cfg.channel_partner is False
    strict = SandboxConfig.from_env(
        {
            "SANDBOX_CHANNEL_PARTNER": "true",
            "SANDBOX_STRICT": "true",
            "SANDBOX_PORT": "9000",
            "SANDBOX_WEBHOOK_RETRY_RESIGN": "false",
            "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2",
        }
    )
    assert strict.timestamp_window_ms == 1000 and strict.public_url.endswith(":9000")
    assert strict.webhook_retry_resign is False
    assert strict.webhook_retry_schedule == (0.2, 0.2)
    assert strict.channel_partner is True
    for bad in (
        {"SANDBOX_PORT": "x"},
        {"SANDBOX_WEBHOOK_RETRY_SCHEDULE": "1,2,3,4,5,6,7"},
        {"SANDBOX_REFUND_AUTO": "maybe"},
        {"SANDBOX_WEBHOOK_RETRY_RESIGN": "perhaps"},
        {"SANDBOX_CHANNEL_PARTNER": "sometimes"},
    ):
        with pytest.raises(ConfigError):
            SandboxConfig.from_env(bad)
