"""In one process: ListActivations page sizes and tokens, the registry's paged history,
the CLI's --server targets, and the v1 reflection descriptor (wire-identical to v1alpha's).
tests/e2e/test_api_hygiene.py runs the same through real servers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.api import page_tokens, reflection_v1
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.packs import read_bundle
from jixiao.registry.store import Registry
from jixiao_cli.channels import channel_options
from jixiao_cli.targets import _check_server_target, server_option

PACK = "quality-district-funding"
RULES = Path(__file__).resolve().parents[2] / "rules"


# --- page sizes and tokens ---------------------------------------------------------


def test_page_size_0_is_100_and_more_than_1000_is_1000() -> None:
    assert [page_tokens.page_size(n) for n in (0, 1, 100, 999, 1000, 1001, 2**31 - 1)] == \
        [100, 1, 100, 999, 1000, 1000, 1000]
    with pytest.raises(InvalidIdentifier) as refused:
        page_tokens.page_size(-1)
    assert refused.value.field == "page_size"


@settings(max_examples=200, deadline=None)
@given(position=st.integers(1, 10**18 - 1), pack=st.text(min_size=1, max_size=64))
def test_a_token_reads_back_to_its_position_for_its_pack_only(position: int, pack: str) -> None:
    token = page_tokens.make_token(pack, position)
    assert len(token) <= page_tokens.MAX_TOKEN_LENGTH
    assert page_tokens.read_token(pack, token) == position
    with pytest.raises(page_tokens.BadPageToken, match="another pack"):
        page_tokens.read_token(pack + "x", token)


def test_the_empty_token_is_the_first_page() -> None:
    assert page_tokens.read_token(PACK, "") == 0


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("token", [
    "x" * 65, "not a token", "abc$", "====", _b64("0:" + "0" * 16), _b64("12:zz"), _b64("12"),
    _b64("-3:" + "0" * 16), _b64("1" * 19 + ":" + "0" * 16), _b64("12:" + "0" * 16 + "\n"),
    base64.urlsafe_b64encode(b"\xff\xfe:12").decode(),
])
def test_a_token_not_given_out_is_refused_naming_the_field(token: str) -> None:
    with pytest.raises(page_tokens.BadPageToken) as refused:
        page_tokens.read_token(PACK, token)
    assert refused.value.field == "page_token"
    assert token not in str(refused.value) or len(token) < 3  # caller text is not echoed


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_as_a_token_is_read_or_refused_never_crashes(token: str) -> None:
    try:
        position = page_tokens.read_token(PACK, token)
    except page_tokens.BadPageToken:
        return
    assert position == 0 if not token else position >= 1


# --- the registry's paged history --------------------------------------------------


def test_history_page_is_history_cut_into_pages(tmp_path) -> None:
    registry = Registry.open_file(tmp_path / "registry.sqlite3")
    try:
        for version in ("1.0.0", "1.1.0"):
            registry.publish(PACK, version, "质量强区", read_bundle(RULES / PACK / version), "ops-alice")
        for index in range(11):
            registry.activate(PACK, ("1.0.0", "1.1.0")[index % 2], f"ops-{index}")
        whole = registry.history(PACK)
        assert len(whole) == 11
        pages, after = [], 0
        while page := registry.history_page(PACK, after, 4):
            pages.append(page)
            after = page[-1][0]
        assert [len(p) for p in pages] == [4, 4, 3]
        assert [a for p in pages for _, a in p] == whole
        numbers = [n for p in pages for n, _ in p]
        assert numbers == sorted(set(numbers))
        assert registry.history_page(PACK, numbers[-1], 4) == []
    finally:
        registry.close()


# --- --server targets --------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "127.0.0.1:50051", "localhost:1", "jixiao.example.internal:50051", "[::1]:50051",
    "dns:///jixiao-headless.ns.svc.cluster.local:50051", "dns:///127.0.0.1:50051", "dns:///[::1]:443",
    "dns://10.0.0.10:53/jixiao:50051", "dns:///localhost:65535",
])
def test_server_accepts_host_port_and_dns_targets(target: str) -> None:
    assert _check_server_target(None, None, target) == target


@pytest.mark.parametrize("target", [
    "", "dns:///", "dns:///127.0.0.1", "127.0.0.1", "http://127.0.0.1:50051", "127.0.0.1:0",
    "dns:///127.0.0.1:99999", "127.0.0.1:50051 ", " 127.0.0.1:50051", "dns:///a b:1", "a_b:1",
    "127.0.0.1:50051\n", "unix:/tmp/x", "x" * 300 + ":1", "-bad.example:1",
])
def test_server_refuses_other_targets_naming_them(target: str) -> None:
    @click.command()
    @server_option
    def command(server: str) -> None:
        click.echo(server)

    result = CliRunner().invoke(command, ["--server", target])
    assert result.exit_code == 2, result.output
    assert "is not HOST:PORT or dns:///HOST:PORT" in result.output


def test_a_channel_to_a_list_of_addresses_balances_round_robin_and_to_one_address_picks_first() -> None:
    def balancing(target: str):
        config = json.loads(dict(channel_options(target))["grpc.service_config"])
        return config.get("loadBalancingConfig"), config["methodConfig"]

    balanced, retries = balancing("dns:///jixiao-headless.ns.svc.cluster.local:50051")
    assert balanced == [{"round_robin": {}}] and balancing("ipv4:127.0.0.1:1,127.0.0.1:2")[0] == balanced
    # One address (often several server processes on one port): pick_first, the default, which
    # reconnects at once for the resend after a process died; the same retries either way.
    assert balancing("127.0.0.1:50051") == (None, retries) and balancing("localhost:50051")[0] is None


# --- reflection v1 -----------------------------------------------------------------


def test_the_v1_descriptor_is_v1alpha_renamed_field_for_field() -> None:
    v1 = reflection_v1.v1_file_descriptor()
    alpha = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(alpha)
    assert (v1.name, v1.package) == ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1")
    assert [m.name for m in v1.message_type] == [m.name for m in alpha.message_type]
    for message, original in zip(v1.message_type, alpha.message_type):
        fields = [(f.name, f.number, f.type, f.label, f.oneof_index, f.type_name.rsplit(".", 1)[-1])
                  for f in message.field]
        assert fields == [(f.name, f.number, f.type, f.label, f.oneof_index, f.type_name.rsplit(".", 1)[-1])
                          for f in original.field]
        for field in message.field:
            assert not field.type_name or field.type_name.startswith(".grpc.reflection.v1.")
    [service] = v1.service
    [method] = service.method
    assert (service.name, method.name, method.client_streaming, method.server_streaming) == \
        ("ServerReflection", "ServerReflectionInfo", True, True)
    assert method.input_type == ".grpc.reflection.v1.ServerReflectionRequest"
