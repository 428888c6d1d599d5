"""Channels to a Jixiao server that ride out a server process dying.

A server runs several processes on one port and restarts one that dies (the rule
engine's failure mode is a crash). Calls that were in flight on it fail with UNAVAILABLE
when its connection breaks; this channel retries them, with jittered backoff, on a new
connection, which lands on a live process. Only calls that are safe to repeat are
retried:

- every EvaluationService call, resent once (2 attempts): the process may have died *on*
  that request, and resending it more would crash one process after another. The server
  quarantines a request that crashed one of its processes, so the resent call is answered
  (INTERNAL, with an error id) instead of crashing another;
- the admin calls that are idempotent (publishing the same files again or activating the
  active version changes nothing), up to 4 attempts: they do not reach the rule engine.
  Not RollbackPack, which would roll back twice if its first attempt had gone through.

A streamed call (EvaluateBatch) is retried only until its first result arrives or
its requests outgrow gRPC's retry buffer (256 KiB); after that an UNAVAILABLE reaches the
caller, who resends the items whose results it has not received.

A `dns:///…` target (or `ipv4:`/`ipv6:` lists) spreads its calls over every address it
resolves to (the round_robin load balancing policy):
`dns:///jixiao-headless.NAMESPACE.svc.cluster.local:50051`, a Kubernetes headless
Service, resolves to every ready replica, so one channel uses them all, a replica that
goes away is dropped when its connection closes, and a resent call lands on another
replica. A plain HOST:PORT keeps pick_first: it is one address, often several server
processes sharing a port, and after one of them dies pick_first reconnects at once for
the resend, where round_robin would fail it while its only address backs off.

Keepalive pings every 20 s while calls are open notice a connection that died silently
(a vanished host) within 30 s, so no call waits past that for a reply that cannot come;
callers should set deadlines all the same.
"""

from __future__ import annotations

import json

import grpc

from .request_ids import with_request_id

EVALUATION_SERVICE = "jixiao.v1.EvaluationService"
ADMIN_SERVICE = "jixiao.v1.PackAdminService"
IDEMPOTENT_ADMIN_METHODS = ("PublishPackVersion", "ListPackVersions", "ActivatePackVersion", "ListActivations")

#: Attempts of an evaluation call: the first and one resend.
EVALUATION_ATTEMPTS = 2
ADMIN_ATTEMPTS = 4
RETRY_POLICY = {
    "maxAttempts": ADMIN_ATTEMPTS,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
EVALUATION_RETRY_POLICY = {**RETRY_POLICY, "maxAttempts": EVALUATION_ATTEMPTS}
SERVICE_CONFIG = {
    "methodConfig": [
        {"name": [{"service": EVALUATION_SERVICE}], "retryPolicy": EVALUATION_RETRY_POLICY},
        {"name": [{"service": ADMIN_SERVICE, "method": method} for method in IDEMPOTENT_ADMIN_METHODS],
         "retryPolicy": RETRY_POLICY},
    ],
    # Stop retrying when most calls fail (a server down, not one process restarting):
    # each failure costs a token, each success gives back a tenth; below half, no retries.
    "retryThrottling": {"maxTokens": 100, "tokenRatio": 0.1},
}
#: For a target that names several addresses: every one gets a connection and calls take
#: turns over the ready ones.
BALANCED_SERVICE_CONFIG = {**SERVICE_CONFIG, "loadBalancingConfig": [{"round_robin": {}}]}
#: Targets resolved to a list of addresses (dns:///name:port, ipv4:a:p,b:p, ipv6:…).
BALANCED_SCHEMES = ("dns:", "ipv4:", "ipv6:")
CHANNEL_OPTIONS = (
    ("grpc.enable_retries", 1),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 0),
    # Reconnect at once after a server process died rather than after the default 1 s.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    # A connection of this channel's own: gRPC otherwise shares one connection among
    # channels to the same target, and the server's kernel spreads connections, not
    # calls, over its processes — N channels should mean N connections.
    ("grpc.use_local_subchannel_pool", 1),
)


def open_channel(target: str, tls_ca: bytes | None = None) -> grpc.Channel:
    """A channel to `target` ("host:port", or "dns:///host:port" for every address of a
    name, e.g. a headless Service, with round_robin over them), retries and keepalive; TLS trusting the
    PEM CA certificates `tls_ca` when given, plaintext otherwise. Every call sends the
    command's request id (request_ids.py)."""
    options = channel_options(target)
    if tls_ca is None:
        return with_request_id(grpc.insecure_channel(target, options=options))
    credentials = grpc.ssl_channel_credentials(root_certificates=tls_ca)
    return with_request_id(grpc.secure_channel(target, credentials, options=options))


def channel_options(target: str) -> tuple[tuple[str, object], ...]:
    """The channel's options for `target`: round_robin for a list of addresses, else pick_first."""
    config = BALANCED_SERVICE_CONFIG if target.startswith(BALANCED_SCHEMES) else SERVICE_CONFIG
    return (("grpc.service_config", json.dumps(config)), *CHANNEL_OPTIONS)
