"""`python -m jixiao.healthcheck`: exit 0 when the server in this container is SERVING.

For the image's HEALTHCHECK and Kubernetes exec probes, which (unlike the native gRPC
probe) can speak TLS. Reads JIXIAO_PORT; when JIXIAO_TLS_CERT is set it speaks TLS,
trusting JIXIAO_TLS_CA (default: the certificate itself) and expecting the certificate
to name JIXIAO_TLS_SERVER_NAME (default: localhost).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_S = 3.0


def open_channel(environment: dict[str, str]) -> grpc.Channel:
    address = f"127.0.0.1:{environment.get('JIXIAO_PORT', '50051')}"
    certificate = environment.get("JIXIAO_TLS_CERT")
    if not certificate:
        return grpc.insecure_channel(address)
    roots = Path(environment.get("JIXIAO_TLS_CA") or certificate).read_bytes()
    server_name = environment.get("JIXIAO_TLS_SERVER_NAME", "localhost")
    return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=roots),
                               options=[("grpc.ssl_target_name_override", server_name)])


def is_serving(environment: dict[str, str]) -> bool:
    with open_channel(environment) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


if __name__ == "__main__":
    sys.exit(0 if is_serving(dict(os.environ)) else 1)
