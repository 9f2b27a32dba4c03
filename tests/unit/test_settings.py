from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import DEVELOPMENT_SECRET_KEY, Settings

REAL_BACKENDS = {
    "mongodb_url": "mongodb://db:27017",
    "redis_url": "redis://cache:6379/0",
    "s3_endpoint_url": "https://s3.example.com",
    "broadcast_url": "redis://bus:6379/0",
}


def test_unset_backends_select_the_embedded_defaults() -> None:
    settings = Settings.model_validate({})

    assert settings.mongodb_url is None and settings.redis_url is None
    assert settings.resolved_media_base_url == "http://127.0.0.1:8000"


def test_settings_are_read_from_prefixed_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PICTOGRAPH_REDIS_URL", "redis://elsewhere:6379/0")
    monkeypatch.setenv("PICTOGRAPH_MEDIA_BASE_URL", "https://cdn.example.com/")

    settings = Settings()

    assert settings.redis_url == "redis://elsewhere:6379/0"
    assert settings.resolved_media_base_url == "https://cdn.example.com"


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="PICTOGRAPH_SECRET_KEY"):
        Settings.model_validate(
            {"environment": "production", "secret_key": DEVELOPMENT_SECRET_KEY, **REAL_BACKENDS}
        )


def test_production_refuses_embedded_backends() -> None:
    with pytest.raises(ValidationError, match="PICTOGRAPH_MONGODB_URL"):
        Settings.model_validate(
            {
                "environment": "production",
                "secret_key": "s3cr3t",
                **REAL_BACKENDS,
                "mongodb_url": None,
            }
        )


def test_production_starts_with_a_secret_and_real_backends() -> None:
    settings = Settings.model_validate(
        {"environment": "production", "secret_key": "s3cr3t", **REAL_BACKENDS}
    )

    assert settings.is_production


def test_the_embedded_redis_refuses_to_run_without_the_in_server_fan_out_worker() -> None:
    with pytest.raises(ValidationError, match="PICTOGRAPH_FANOUT_IN_SERVER"):
        Settings.model_validate({"redis_url": None, "fanout_in_server": False})


def test_a_real_redis_may_leave_fan_out_to_worker_processes() -> None:
    settings = Settings.model_validate(
        {"redis_url": "redis://cache:6379/0", "fanout_in_server": False}
    )

    assert not settings.runs_fanout_in_server


def test_production_refuses_the_in_process_event_bus() -> None:
    with pytest.raises(ValidationError, match="PICTOGRAPH_BROADCAST_URL"):
        Settings.model_validate(
            {
                "environment": "production",
                "secret_key": "s3cr3t",
                **REAL_BACKENDS,
                "broadcast_url": None,
            }
        )


def test_the_event_bus_url_must_be_redis() -> None:
    with pytest.raises(ValidationError, match="redis:// or rediss://"):
        Settings.model_validate({"broadcast_url": "kafka://bus:9092"})


def test_unset_triton_url_ranks_in_process() -> None:
    assert Settings.model_validate({}).triton_endpoint is None


@pytest.mark.parametrize(
    ("url", "protocol", "address"),
    [
        ("grpc://triton:8001", "grpc", "triton:8001"),
        ("http://10.0.0.5:8000", "http", "10.0.0.5:8000"),
    ],
)
def test_the_triton_urls_scheme_picks_the_protocol(url: str, protocol: str, address: str) -> None:
    endpoint = Settings.model_validate({"triton_url": url}).triton_endpoint

    assert endpoint is not None
    assert (endpoint.protocol.value, endpoint.address) == (protocol, address)


@pytest.mark.parametrize(
    "url", ["triton:8001", "https://triton:8000", "grpc://triton", "grpc://triton:8001/v2"]
)
def test_a_triton_url_that_is_not_grpc_or_http_host_and_port_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="triton_url"):
        Settings.model_validate({"triton_url": url})
