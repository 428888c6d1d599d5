"""jixiao-server checks what it was given before anything listens: TLS files that are not
PEM, or a key that is not the certificate's, stop the start naming the file; a pack folder
with no pack in it is served, with a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import TlsFiles, server_environment, start_server

pytestmark = pytest.mark.e2e


def _start(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "jixiao.server", "--port", "0", "--processes", "2",
               "--registry", str(tmp_path / "registry.sqlite3"), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=server_environment(tmp_path),
                          stdin=subprocess.DEVNULL)


def _other_key(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.mark.parametrize("broken, expected", [
    ("cert", "--tls-cert {cert}: not a PEM certificate"),
    ("key", "--tls-key {key}: not a PEM private key"),
    ("other key", "--tls-key {key} is not the private key of the certificate in --tls-cert {cert}"),
])
def test_bad_tls_files_stop_the_start_naming_the_file(tmp_path, tls_certificate: TlsFiles, broken: str,
                                                      expected: str) -> None:
    cert, key = tls_certificate.cert, tls_certificate.key
    if broken == "cert":
        cert = tmp_path / "server.crt"
        cert.write_text("not a certificate\n")
    elif broken == "key":
        key = tmp_path / "server.key"
        key.write_bytes(tls_certificate.cert.read_bytes())  # a certificate where the key should be
    else:
        key = _other_key(tmp_path / "other.key")
    result = _start(tmp_path, "--tls-cert", cert, "--tls-key", key)
    assert result.returncode == 1, result.stderr
    assert expected.format(cert=cert, key=key) in result.stderr
    assert "listening" not in result.stderr and "cannot listen" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pack_folder_with_no_pack_is_served_with_a_warning(tmp_path) -> None:
    empty = tmp_path / "no-packs"
    empty.mkdir()
    server = start_server(tmp_path / "server.log", packs=empty)
    try:
        log = server.log()
    finally:
        assert server.stop() == 0
    warning = next(line for line in log.splitlines() if "no rule packs in the pack folder" in line)
    assert '"level": "warning"' in warning and str(empty) in warning


def test_a_cli_tls_ca_file_that_is_not_pem_is_refused_naming_it(tmp_path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("not a certificate\n")
    result = subprocess.run([sys.executable, "-m", "jixiao_cli", "packs", "--server", "127.0.0.1:9",
                             "--tls-ca", str(ca)], capture_output=True, text=True, timeout=60,
                            env=server_environment(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"--tls-ca {ca}: not PEM CA certificates "
                                                  "(expected -----BEGIN CERTIFICATE-----)"]


def test_a_plaintext_client_of_a_tls_server_is_told_to_give_tls_ca(tmp_path, tls_certificate: TlsFiles) -> None:
    server = start_server(tmp_path / "server.log", tls=tls_certificate)
    try:
        plain = subprocess.run([sys.executable, "-m", "jixiao_cli", "packs", "--server", server.address],
                               capture_output=True, text=True, timeout=60, env=server_environment(tmp_path))
        with_ca = subprocess.run([sys.executable, "-m", "jixiao_cli", "packs", "--server", server.address,
                                  "--tls-ca", str(tls_certificate.cert)],
                                 capture_output=True, text=True, timeout=60, env=server_environment(tmp_path))
    finally:
        assert server.stop() == 0
    assert plain.returncode == 3
    [line] = plain.stderr.strip().splitlines()
    assert line.startswith("server unavailable: ") and "if it speaks TLS, give its CA certificates with --tls-ca" in line
    assert with_ca.returncode == 0, with_ca.stderr
