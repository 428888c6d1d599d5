"""Start-up: --otel without OpenTelemetry installed is refused clearly; without --otel nothing
of it is imported; a metrics port that cannot be had is named."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.observability.exposition import MetricsEndpoint

REPO = Path(__file__).resolve().parents[2]


def run(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_otel_without_opentelemetry_installed_stops_the_start_saying_what_to_install(tmp_path) -> None:
    done = run(
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if the otel extra were not installed\n"
        "from jixiao.server import main\n"
        f"main(['--otel', '--processes', '1', '--port', '0', '--registry', {str(tmp_path / 'r.sqlite3')!r},\n"
        "      '--log-format', 'json'])\n", tmp_path)
    assert done.returncode == 1
    assert "--otel needs OpenTelemetry, which is not installed" in done.stderr
    assert "pip install 'jixiao[otel]'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.sqlite3").exists()  # refused before anything was opened


def test_without_otel_nothing_of_opentelemetry_is_imported(tmp_path) -> None:
    done = run(
        "import sys\n"
        "from pathlib import Path\n"
        "from jixiao.observability.setup import for_server\n"
        "from jixiao.settings import ServerSettings\n"
        f"settings = ServerSettings('127.0.0.1', 0, packs_dir=Path({str(REPO / 'rules')!r}))\n"
        "observed = for_server(settings, supervised=False)\n"
        "otel = any(m.split('.')[0] == 'opentelemetry' for m in sys.modules)\n"
        "print(observed.interceptor is not None, otel,\n"
        "      'prometheus_client' in sys.modules)\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


def test_a_metrics_port_in_use_is_named() -> None:
    from prometheus_client import CollectorRegistry

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{port} "):
            MetricsEndpoint("127.0.0.1", port, CollectorRegistry())


def test_a_metrics_port_equal_to_the_grpc_port_is_refused_before_anything_starts(tmp_path) -> None:
    # Else the metrics endpoint took the port first and the start failed with gRPC's
    # "cannot listen on …: in use", naming neither option.
    from click.testing import CliRunner

    from jixiao.server import main

    registry = tmp_path / "r.sqlite3"
    done = CliRunner().invoke(main, ["--port", "56789", "--metrics-port", "56789", "--processes", "1",
                                     "--registry", str(registry)])
    assert done.exit_code == 2
    assert "Invalid value for '--metrics-port': 56789 is the gRPC port (--port)" in done.output
    assert not registry.exists()
