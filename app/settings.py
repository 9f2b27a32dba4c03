"""Settings, read from `PICTOGRAPH_*` environment variables (or a `.env` file).

Every backend URL left unset selects its embedded default, so `pictograph serve` needs
nothing running; production refuses embedded backends and the default secret.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from enum import StrEnum
from typing import Self
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.graphql_view import REQUEST_DEADLINE_SECONDS
from ranking.triton_endpoint import TRITON_TIMEOUT_SECONDS, TritonEndpoint
from resolvers.rate_limits import RateLimits
from schema.cost import COST_BUDGET_PER_MINUTE
from storage.stores import DEFAULT_FEED_INACTIVE_AFTER
from subscriptions.bus import REDIS_SCHEMES

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"
DEFAULT_PORT = 8000
# Receiving one request's headers: a phone on a bad network sends them in well under a
# second; a slowloris client never finishes (as Apache's mod_reqtimeout, header=10-20).
REQUEST_HEADERS_TIMEOUT_SECONDS = 10.0
# Receiving its body, extended by the protocol for every chunk that arrives at a fair rate
# (see app/http_protocol.py), so a large embedded upload on a slow link still makes it.
REQUEST_BODY_TIMEOUT_SECONDS = 20.0
# graphql-transport-ws: a client sends connection_init right after the handshake.
CONNECTION_INIT_TIMEOUT_SECONDS = 10.0


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PICTOGRAPH_", env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str | None = Field(
        default=None, description="Where clients reach this server; defaults to http://host:port."
    )

    mongodb_url: str | None = None
    mongodb_database: str = "pictograph"
    redis_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str = "pictograph-media"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    media_base_url: str | None = Field(
        default=None,
        description="The CDN in front of the media (keys start with media/); defaults to "
        "the app itself, which serves the embedded storage's media.",
    )
    media_dir: str = ".pictograph/media"
    broadcast_url: str | None = Field(
        default=None,
        description="The event bus's Redis (redis:// or rediss://), shared by every process; "
        "unset: broadcaster's memory backend, which reaches only this process.",
    )
    triton_url: str | None = Field(
        default=None,
        description="Triton Inference Server serving the engagement model: grpc://host:8001 "
        "or http://host:8000; unset: the same model runs in process (onnxruntime), as it also "
        "does whenever Triton is slow or down.",
    )
    triton_timeout_seconds: float = Field(
        default=TRITON_TIMEOUT_SECONDS,
        gt=0,
        description="A ranking call slower than this is served in process instead.",
    )

    session_days: int = Field(default=30, ge=1, le=365)
    fanout_max_followers: int = Field(
        default=10_000, ge=0, description="Authors above this are merged into feeds at read time."
    )
    feed_inactive_days: int = Field(
        default=DEFAULT_FEED_INACTIVE_AFTER.days,
        ge=1,
        description="Feeds unread this long expire and are not fanned out to.",
    )
    fanout_in_server: bool | None = Field(
        default=None,
        description="Run a fan-out worker inside the server; unset: only with embedded Redis "
        "(otherwise run `pictograph worker` processes).",
    )
    worker_id: int = Field(
        default=0, ge=0, le=8191, description="Unique per process: id generation."
    )
    request_deadline_seconds: float = Field(
        default=REQUEST_DEADLINE_SECONDS,
        gt=0,
        description="Queries still running after this are stopped (TIMEOUT).",
    )
    cost_budget_per_minute: int = Field(
        default=COST_BUDGET_PER_MINUTE,
        ge=1,
        description="Query cost points each viewer (or anonymous client address) may spend "
        "a minute; a full minute's worth may be spent at once.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Other origins whose pages may open WebSockets."
    )
    trusted_documents: bool | None = Field(
        default=None,
        description="Run only the contract's operations and registered persisted-query "
        "manifests; unset: on in production, off in development.",
    )
    introspection: bool | None = Field(
        default=None,
        description='Answer introspection (__schema, __type) and give "Did you mean" hints; '
        "unset: only in development (an internal production deployment may turn it on).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR networks of the reverse proxies in front; only a "
        "request from one of them has its X-Forwarded-For believed.",
    )
    request_headers_timeout_seconds: float = Field(default=REQUEST_HEADERS_TIMEOUT_SECONDS, gt=0)
    request_body_timeout_seconds: float = Field(default=REQUEST_BODY_TIMEOUT_SECONDS, gt=0)
    connection_init_timeout_seconds: float = Field(default=CONNECTION_INIT_TIMEOUT_SECONDS, gt=0)
    rate_limits: RateLimits = Field(
        default_factory=RateLimits, description="Abuse limits (resolvers/rate_limits.py)."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError as error:
                raise ValueError(f"not an address or CIDR network: {proxy!r}") from error
        return proxies

    @field_validator("broadcast_url")
    @classmethod
    def _broadcast_url_is_redis(cls, url: str | None) -> str | None:
        if url is not None and urlparse(url).scheme not in REDIS_SCHEMES:
            raise ValueError(f"the event bus needs a redis:// or rediss:// URL, not {url!r}")
        return url

    @field_validator("triton_url")
    @classmethod
    def _triton_url_names_a_protocol(cls, url: str | None) -> str | None:
        if url is not None:
            TritonEndpoint.parse(url)
        return url

    @property
    def triton_endpoint(self) -> TritonEndpoint | None:
        return None if self.triton_url is None else TritonEndpoint.parse(self.triton_url)

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(proxy.strip(), strict=False) for proxy in self.trusted_proxies]

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def introspection_enabled(self) -> bool:
        return not self.is_production if self.introspection is None else self.introspection

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_media_base_url(self) -> str:
        return (self.media_base_url or self.base_url).rstrip("/")

    @property
    def runs_fanout_in_server(self) -> bool:
        return self.redis_url is None if self.fanout_in_server is None else self.fanout_in_server

    @property
    def requires_trusted_documents(self) -> bool:
        if self.trusted_documents is None:
            return self.is_production
        return self.trusted_documents

    @property
    def feed_inactive_after(self) -> timedelta:
        return timedelta(days=self.feed_inactive_days)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(days=self.session_days)

    def embedded_backends(self) -> list[str]:
        urls = {
            "MONGODB_URL": self.mongodb_url,
            "REDIS_URL": self.redis_url,
            "S3_ENDPOINT_URL": self.s3_endpoint_url,
            "BROADCAST_URL": self.broadcast_url,
        }
        return [f"PICTOGRAPH_{name}" for name, url in urls.items() if url is None]

    @model_validator(mode="after")
    def _refuse_a_fan_out_nobody_runs(self) -> Self:
        if self.redis_url is None and self.fanout_in_server is False:
            # The embedded Redis lives inside this process: no `pictograph worker` can reach
            # its jobs, so without the in-server worker no post would ever be fanned out.
            raise ValueError(
                "PICTOGRAPH_FANOUT_IN_SERVER=false needs PICTOGRAPH_REDIS_URL: the embedded "
                "Redis's fan-out jobs can only be run by the server itself"
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        if not self.is_production:
            return self
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY:
            raise ValueError("production needs PICTOGRAPH_SECRET_KEY set to a secret of its own")
        if missing := self.embedded_backends():
            raise ValueError("production needs real backends; set " + ", ".join(missing))
        return self
