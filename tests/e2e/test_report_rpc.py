"""RenderReport through a real server: the report of a request evaluated exactly as Evaluate
evaluates it, the same bytes (Markdown, HTML) or the same content (Word) as the CLI renders
in process, Evaluate's errors, and a server that keeps answering while reports render.
"""

from __future__ import annotations

import copy
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import docx
import grpc
import pytest
from bs4 import BeautifulSoup
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from jixiao.packs import PackLibrary
from jixiao.report import MEDIA_TYPES, SUFFIXES
from jixiao.api.reports import REPLY_MAX_BYTES
from jixiao.core.pack.cases import load_case
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc
from jixiao_cli.client import JixiaoError
from jixiao_cli.local import LocalJixiao

from conftest import RULES, RunningServer
from report_facts import random_facts

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
FRAMEWORK_ID = "project-expenditure-framework"
FORMATS = {"docx": pb.REPORT_FORMAT_DOCX, "markdown": pb.REPORT_FORMAT_MARKDOWN, "html": pb.REPORT_FORMAT_HTML}
TEXT_FORMATS = ("markdown", "html")
LANGUAGES = {"zh": pb.LANGUAGE_ZH, "en": pb.LANGUAGE_EN}
FINDINGS_VERSION = "1.0.1"  # the version with findings, recommendations and observations
CASE_OBSERVED = RULES / PACK_ID / FINDINGS_VERSION / "cases" / "2019.yaml"
SEEDS = (1, 2, 3)
DEADLINE_S = 60
#: A health check's answer while reports render: generous (it takes milliseconds), but a
#: loop blocked by a render (a second or more) would pass it.
HEALTH_ANSWER_S = 0.5


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message


def evaluate_request(facts: dict, pack_id: str = PACK_ID, version: str = "", language: str = "zh"
                     ) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(pack_id=pack_id, version=version, facts=struct(facts), language=LANGUAGES[language])


def report_request(facts: dict, fmt: str, **options: str) -> pb.RenderReportRequest:
    return pb.RenderReportRequest(request=evaluate_request(facts, **options), format=FORMATS[fmt])


def docx_content(content: bytes) -> dict[str, list]:
    """What a reader sees in a Word file: every paragraph's text, every table's cells, the pictures."""
    document = docx.Document(io.BytesIO(content))
    return {
        "paragraphs": [p.text for p in document.paragraphs],
        "tables": [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables],
        "pictures": len(document.inline_shapes),
    }


def failure(call, request) -> tuple[grpc.StatusCode, object]:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=DEADLINE_S)
    return raised.value.code(), rpc_status.from_call(raised.value)


def detail(status, kind):
    (packed,) = [d for d in status.details if d.Is(kind.DESCRIPTOR)]
    message = kind()
    packed.Unpack(message)
    return message


def unrecorded(reply):
    """A server's reply without the decision id its decision log gave it (a local one has none)."""
    evaluation = reply.evaluation if isinstance(reply, pb.RenderReportResponse) else reply
    assert len(evaluation.decision_id) == 36
    bare = type(reply)()
    bare.CopyFrom(reply)
    (bare.evaluation if isinstance(bare, pb.RenderReportResponse) else bare).ClearField("decision_id")
    return bare


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def observed_2019_facts() -> dict:
    """The 2019 facts with the evaluators' observations 4–7, from the golden case of the
    version whose rules give findings and recommendations."""
    return load_case(CASE_OBSERVED.read_text(encoding="utf-8"), str(CASE_OBSERVED)).facts


@pytest.fixture(scope="module")
def library() -> Iterator[PackLibrary]:
    """The server's packs: the repository's rules/."""
    packs = PackLibrary.from_directory(RULES)
    yield packs
    packs.close()


@pytest.fixture(scope="module")
def local(library: PackLibrary) -> LocalJixiao:
    """What `jixiao report --local` renders with, in this process."""
    return LocalJixiao(library, lambda: None)


def local_report(local: LocalJixiao, facts: dict, fmt: str, pack_id: str = PACK_ID, version: str = "",
                 language: str = "zh") -> pb.RenderReportResponse:
    return local.render_report(pack_id, facts, fmt, version=version or None, language=language)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_comes_with_its_media_type_and_file_name(stub, golden_2019_facts, fmt) -> None:
    reply = stub.RenderReport(report_request(golden_2019_facts, fmt, version="1.0.0"), timeout=DEADLINE_S)
    assert reply.media_type == MEDIA_TYPES[fmt]
    assert reply.file_name == f"{PACK_ID}-1.0.0-report{SUFFIXES[fmt]}"
    if fmt == "docx":
        assert docx_content(reply.content)["pictures"] == 1  # the dimensions' chart
    elif fmt == "html":
        page = BeautifulSoup(reply.content.decode("utf-8"), "html.parser")
        assert page.find("svg") is not None  # the chart, inline
    else:
        assert reply.content.decode("utf-8").startswith("# ")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_evaluation_in_the_reply_is_evaluates(stub, golden_2019_facts, language) -> None:
    request = report_request(golden_2019_facts, "markdown", language=language)
    reply = stub.RenderReport(request, timeout=DEADLINE_S)
    assert unrecorded(reply).evaluation == unrecorded(stub.Evaluate(request.request, timeout=DEADLINE_S))
    assert reply.evaluation.score in reply.content.decode("utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_markdown_and_html_are_the_bytes_rendered_in_process(stub, local, observed_2019_facts, fmt,
                                                             language) -> None:
    options = {"version": FINDINGS_VERSION, "language": language}
    reply = stub.RenderReport(report_request(observed_2019_facts, fmt, **options), timeout=DEADLINE_S)
    assert reply.evaluation.findings and reply.evaluation.recommendations
    assert unrecorded(reply) == local_report(local, observed_2019_facts, fmt, **options)


def test_word_has_the_content_rendered_in_process(stub, local, observed_2019_facts) -> None:
    reply = stub.RenderReport(report_request(observed_2019_facts, "docx", version=FINDINGS_VERSION),
                              timeout=DEADLINE_S)
    here = local_report(local, observed_2019_facts, "docx", version=FINDINGS_VERSION)
    assert docx_content(reply.content) == docx_content(here.content)
    assert (reply.media_type, reply.file_name, unrecorded(reply).evaluation) == (here.media_type, here.file_name,
                                                                              here.evaluation)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("pack_id, version", [(PACK_ID, FINDINGS_VERSION), (FRAMEWORK_ID, "")])
def test_a_random_project_gets_the_same_report_from_the_server_and_in_process(stub, library, local, pack_id,
                                                                             version, seed) -> None:
    pack = library.get(pack_id, version or None).pack

    def valid(facts: dict) -> bool:
        try:
            local.evaluate_result(pack_id, facts, version or None)
        except JixiaoError:
            return False
        return True

    facts = random_facts(pack, seed, valid)
    language = "en" if seed % 2 == 0 else "zh"
    for fmt in FORMATS:
        options = {"pack_id": pack_id, "version": version, "language": language}
        reply = stub.RenderReport(report_request(facts, fmt, **options), timeout=DEADLINE_S)
        here = local_report(local, facts, fmt, **options)
        if fmt == "docx":
            assert docx_content(reply.content) == docx_content(here.content), (seed, json.dumps(facts))
            assert unrecorded(reply).evaluation == here.evaluation
        else:
            assert unrecorded(reply) == here, (fmt, seed, json.dumps(facts, ensure_ascii=False))


def test_invalid_facts_are_refused_as_evaluate_refuses_them(stub, golden_2019_facts) -> None:
    facts = copy.deepcopy(golden_2019_facts)
    del facts["budget"]["spent"]
    facts["output"]["trainings_held"] = "abc"
    request = report_request(facts, "docx")
    code, status = failure(stub.RenderReport, request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert (code, status) == failure(stub.Evaluate, request.request)
    fields = {v.field for v in detail(status, error_details_pb2.BadRequest).field_violations}
    assert {"facts.budget.spent", "facts.output.trainings_held"} <= fields


@pytest.mark.parametrize("pack_id, version", [("no-such-pack", ""), (PACK_ID, "9.9.9")])
def test_an_unknown_pack_or_version_is_not_found(stub, golden_2019_facts, pack_id, version) -> None:
    request = report_request(golden_2019_facts, "html", pack_id=pack_id, version=version)
    code, status = failure(stub.RenderReport, request)
    assert code == grpc.StatusCode.NOT_FOUND
    assert (code, status) == failure(stub.Evaluate, request.request)
    assert detail(status, error_details_pb2.ResourceInfo).resource_type == "jixiao.v1.Pack"


@pytest.mark.parametrize("value", [pb.REPORT_FORMAT_UNSPECIFIED, 99])
def test_a_missing_or_unknown_format_is_an_invalid_argument_naming_it(stub, golden_2019_facts, value) -> None:
    request = pb.RenderReportRequest(request=evaluate_request(golden_2019_facts), format=value)
    code, status = failure(stub.RenderReport, request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    (violation,) = detail(status, error_details_pb2.BadRequest).field_violations
    assert violation.field == "format"
    assert "REPORT_FORMAT_DOCX" in violation.description


def test_health_and_evaluate_answer_while_four_reports_render(channel, stub, golden_2019_facts) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    evaluate = evaluate_request(golden_2019_facts)
    answered: list[float] = []
    with ThreadPoolExecutor(4) as pool:
        renders = [pool.submit(stub.RenderReport, report_request(golden_2019_facts, fmt), timeout=DEADLINE_S)
                   for fmt in ("docx", "html", "docx", "html")]
        while not all(render.done() for render in renders):
            started = time.perf_counter()
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == \
                health_pb2.HealthCheckResponse.SERVING
            assert stub.Evaluate(evaluate, timeout=5).score
            if not all(render.done() for render in renders):  # answered while reports were still rendering
                answered.append(time.perf_counter() - started)
            time.sleep(0.02)
        replies = [render.result() for render in renders]
    assert len(answered) >= 3, answered
    assert max(answered) < HEALTH_ANSWER_S, answered
    assert all(reply.content for reply in replies)


def test_each_report_is_one_log_line_without_the_facts(jixiao_server: RunningServer, stub,
                                                       golden_2019_facts) -> None:
    facts = copy.deepcopy(golden_2019_facts)
    facts["project"]["name"] = "日志里不应出现的项目名称"
    reply = stub.RenderReport(report_request(facts, "markdown", version="1.0.0"), timeout=DEADLINE_S)
    assert facts["project"]["name"] in reply.content.decode("utf-8")
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in jixiao_server.log().splitlines() if '"RenderReport"' in line]
        logged = [line for line in lines if line.get("bytes") == len(reply.content)]
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert logged, lines
    line = logged[-1]
    assert (line["method"], line["pack"], line["version"], line["format"], line["code"]) == \
        ("RenderReport", PACK_ID, "1.0.0", "REPORT_FORMAT_MARKDOWN", "OK")
    assert line["duration_ms"] > 0
    assert facts["project"]["name"] not in jixiao_server.log()


def test_hostile_texts_at_their_limits_make_reports_within_the_reply_limit(channel, stub, local,
                                                                           golden_2019_facts) -> None:
    """Control characters, markup and 20 texts of 5,000 characters in each observations fact
    (the most a request may send): every format renders, the server serves on."""
    facts = copy.deepcopy(golden_2019_facts)
    piece = "问题\x00\x01\x0b\x1b[31m<script>alert(1)</script>|*_#`&amp;\u2028\ufffe\U0001F600"
    long = piece * (5000 // len(piece))
    facts["project"]["name"] = "名称\x00\x0c<b>" * 20
    facts.setdefault("evaluation", {})["observed_problems"] = [f"{n}{long}" for n in range(20)]
    facts["evaluation"]["observed_recommendations"] = [f"{n}{long[::-1]}" for n in range(20)]
    for fmt in FORMATS:
        reply = stub.RenderReport(report_request(facts, fmt, version=FINDINGS_VERSION), timeout=DEADLINE_S)
        assert 0 < reply.ByteSize() <= REPLY_MAX_BYTES
        if fmt == "markdown":
            assert unrecorded(reply) == local_report(local, facts, fmt, version=FINDINGS_VERSION)
            assert "alert(1)" in reply.content.decode("utf-8")
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING


def test_a_request_that_does_not_decode_is_an_invalid_argument(channel) -> None:
    render = channel.unary_unary("/jixiao.v1.EvaluationService/RenderReport")
    with pytest.raises(grpc.RpcError) as raised:
        render(b"\x0a\x05\xff\xfe\xfd", timeout=DEADLINE_S)  # field 1 cut short
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details().startswith("request could not be decoded: ")
