"""Fuzz RenderReport and text_list facts through a real server: it stays up, every answer is clean.

Hostile requests (tests/e2e/hostile_facts.py `report_cases`: observations and project
texts with markup, script, event handlers, Markdown table breakers, template and format
placeholders, bidi overrides, control characters, formulas, 20 × 5,000 characters,
10,000 items, items that are not texts, nested lists; now and then a number fact spoiled)
go to RenderReport in every format, and with unknown format values. Each must be answered
OK or INVALID_ARGUMENT / NOT_FOUND / RESOURCE_EXHAUSTED, with the code the same request
gets in process (`report_for`, what `jixiao report --local` runs); an OK reply's Markdown
and HTML must be the bytes rendered in process and its Word file the same content; the
HTML must hold only the template's and the chart's elements, with no script and no event
handler attribute; every Markdown table keeps its column count. The same facts go through
EvaluateBatch too, each reply equal to the plain reference evaluator's.

Then the render queue: a burst of concurrent renders is answered OK or RESOURCE_EXHAUSTED
(never anything else), calls cancelled mid-render leave the queue empty, and a few hundred
renders do not make the server's memory run away. At the end the server process is alive
and SERVING.

JIXIAO_FUZZ_SEED and JIXIAO_REPORT_FUZZ_CASES choose the run (defaults: a fixed seed, 60
cases); a failure names the seed and the case so that it can be replayed.
"""

from __future__ import annotations

import copy
import io
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import docx
import grpc
import pytest
from bs4 import BeautifulSoup
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.api import convert, errors
from jixiao.api.servicer import report_for
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.compiler import plain_matcher
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.cases import load_case
from jixiao.packs import PackLibrary, load_pack_dir
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from conftest import RULES, RunningServer
from hostile_facts import report_cases

pytestmark = pytest.mark.e2e

PACK = "quality-district-funding"
FRAMEWORK = "project-expenditure-framework"
VERSION = "1.0.1"  # the bundled versions with text_list facts (observations)
SEED = int(os.environ.get("JIXIAO_FUZZ_SEED", "20261203"))
CASES = int(os.environ.get("JIXIAO_REPORT_FUZZ_CASES", "60"))
DEADLINE_S = 120
CLEAN_CODES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
               grpc.StatusCode.RESOURCE_EXHAUSTED}
TEXT_FORMATS = (pb.REPORT_FORMAT_MARKDOWN, pb.REPORT_FORMAT_HTML)
#: Elements the HTML template writes, and the ones matplotlib's inline SVG chart is made of.
TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "p", "br", "table",
                 "thead", "tbody", "tr", "th", "td", "ol", "li", "span", "figure", "figcaption", "div"}
SVG_TAGS = {"svg", "g", "path", "defs", "use", "clippath", "rect", "text", "metadata", "style", "desc", "title",
            "symbol", "polygon", "polyline", "line", "circle", "ellipse", "image", "lineargradient",
            "radialgradient", "stop", "pattern", "mask", "filter", "tspan", "rdf:rdf", "cc:work", "dc:type",
            "dc:date", "dc:format", "dc:creator", "cc:agent", "dc:title"}
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
#: A server's resident memory may grow this much over a few hundred renders (caches,
#: matplotlib's font cache, allocator slack); a leak of a report per call would pass it.
RSS_GROWTH_MAX_MB = 150
#: The module's server holds this many reports waiting (--max-waiting-reports): a burst fills it quickly.
WAITING = 3


@pytest.fixture(scope="module")
def server(launch_server) -> RunningServer:
    return launch_server("report-fuzz", args=["--max-waiting-reports", str(WAITING)])


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[evaluation_pb2_grpc.EvaluationServiceStub]:
    with server.channel() as channel:
        yield evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def library() -> Iterator[PackLibrary]:
    """The server's packs, in this process: what `jixiao report --local` renders with."""
    packs = PackLibrary.from_directory(RULES)
    yield packs
    packs.close()


def case_facts(pack_id: str, name: str) -> dict:
    path = RULES / pack_id / VERSION / "cases" / f"{name}.yaml"
    return load_case(path.read_text(encoding="utf-8"), str(path)).facts


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message


def _requests() -> list[pb.RenderReportRequest]:
    """Hostile facts of both bundled 1.0.1 packs; mostly Markdown (cheap), some HTML and Word,
    one in twenty an unset or unknown format, one in twenty an unknown language, pack or version,
one in five with ignore_unknown_facts."""
    bases = [(PACK, case_facts(PACK, "2019")), (FRAMEWORK, case_facts(FRAMEWORK, "excellent"))]
    formats = [pb.REPORT_FORMAT_MARKDOWN] * 13 + [pb.REPORT_FORMAT_HTML] * 4 + [pb.REPORT_FORMAT_DOCX] * 2
    requests = []
    for number, facts in enumerate(report_cases(bases[0][1], SEED, CASES)):
        pack_id, base = bases[number % 2]
        if pack_id != PACK:
            facts = {**copy.deepcopy(base), "evaluation": facts["evaluation"]}
        fmt = (pb.REPORT_FORMAT_UNSPECIFIED, 4, 99, -1)[number // 20 % 4] if number % 20 == 19 else \
            formats[number % len(formats)]
        language = (pb.LANGUAGE_ZH, pb.LANGUAGE_EN, pb.LANGUAGE_UNSPECIFIED)[number % 3]
        request = pb.EvaluateRequest(pack_id=pack_id, version=VERSION, facts=struct(facts), language=language,
                                     ignore_unknown_facts=number % 5 == 4)
        if number % 20 == 18:  # an unknown language, pack or version, or ids that are not ids
            spoil = (("language", 99), ("pack_id", "no-such-pack"), ("version", "9.9.9"), ("pack_id", "../etc"),
                     ("version", "1.0.1\n"), ("language", -1))[number // 20 % 6]
            setattr(request, *spoil)
        requests.append(pb.RenderReportRequest(request=request, format=fmt))
    return requests


def in_process(request: pb.RenderReportRequest, library: PackLibrary
               ) -> tuple[grpc.StatusCode, pb.RenderReportResponse | None]:
    """The code and reply the same request gets in this process (INTERNAL for what status_for cannot map)."""
    try:
        return grpc.StatusCode.OK, report_for(request, library.get)
    except Exception as error:  # noqa: BLE001 - every refusal is mapped as the server maps it
        return errors.status_for(error).code, None


def docx_content(content: bytes) -> dict[str, list]:
    document = docx.Document(io.BytesIO(content))
    return {"paragraphs": [p.text for p in document.paragraphs],
            "tables": [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables],
            "pictures": len(document.inline_shapes)}


def html_problems(content: bytes) -> list[str]:
    """What a page holds that the template does not write: another element, a script, an
    event handler attribute, a javascript: address."""
    page = BeautifulSoup(content.decode("utf-8"), "html.parser")
    problems = []
    for tag in page.find_all(True):
        if tag.name not in TEMPLATE_TAGS | SVG_TAGS or tag.name in {"script", "iframe", "foreignobject", "image"}:
            problems.append(f"element <{tag.name}>")
        for attribute, value in tag.attrs.items():
            values = value if isinstance(value, list) else [value]
            if attribute.lower().startswith("on"):
                problems.append(f"<{tag.name} {attribute}=...>")
            if any("javascript:" in str(v).lower() for v in values):
                problems.append(f"<{tag.name} {attribute}> holds a javascript: address")
    return problems


def markdown_problems(content: bytes) -> list[str]:
    """Tables whose rows do not all have the same number of unescaped pipes, and raw HTML tags."""
    problems = []
    table: list[str] = []
    for line in content.decode("utf-8").splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            counts = {len(UNESCAPED_PIPE.findall(row)) for row in table}
            if len(counts) != 1:
                problems.append(f"a table's rows have {sorted(counts)} pipes: {table[0][:80]!r}")
            table = []
    tags = set(re.findall(r"(?<!\\)<[a-zA-Z/!][^>]*>", content.decode("utf-8"))) - {"<br>"}
    if tags:
        problems.append(f"raw HTML in the Markdown: {sorted(tags)[:5]}")
    return problems


def check_reply(where: str, request, code: grpc.StatusCode, reply, library, problems: list[str]) -> None:
    """`code`/`reply` (the server's) against the same request in process and the formats' rules."""
    if code not in CLEAN_CODES:
        problems.append(f"{where}: {code.name}")
        return
    expected_code, expected = in_process(request, library)
    if expected_code not in CLEAN_CODES:
        problems.append(f"{where}: in process {expected_code.name}")
    if code != expected_code:
        problems.append(f"{where}: the server said {code.name}, the same request in process {expected_code.name}")
        return
    if reply is None:
        return
    if request.format in TEXT_FORMATS:
        if reply != expected:
            problems.append(f"{where}: the reply is not the bytes rendered in process")
    else:
        if reply.evaluation != expected.evaluation or docx_content(reply.content) != docx_content(expected.content):
            problems.append(f"{where}: the Word file's content differs from the one rendered in process")
    if request.format == pb.REPORT_FORMAT_HTML:
        problems.extend(f"{where}: {p}" for p in html_problems(reply.content))
    if request.format == pb.REPORT_FORMAT_MARKDOWN:
        problems.extend(f"{where}: {p}" for p in markdown_problems(reply.content))


def assert_serving(server: RunningServer) -> None:
    assert server.process.poll() is None, f"the server died:\n{server.log()[-3000:]}"
    with server.channel() as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def call(stub, request, timeout: float = DEADLINE_S) -> tuple[grpc.StatusCode, pb.RenderReportResponse | None]:
    try:
        reply = stub.RenderReport(request, timeout=timeout)
    except grpc.RpcError as error:
        return error.code(), None
    reply.evaluation.ClearField("decision_id")  # the server's decision log gave it one; in process has none
    return grpc.StatusCode.OK, reply


def test_hostile_report_requests_are_answered_cleanly_and_as_in_process(server, stub, library) -> None:
    requests = _requests()
    problems: list[str] = []
    codes: dict[str, int] = {}
    started = time.perf_counter()
    for number, request in enumerate(requests):
        code, reply = call(stub, request)
        codes[code.name] = codes.get(code.name, 0) + 1
        check_reply(f"case {number} (JIXIAO_FUZZ_SEED={SEED}, format {request.format})", request, code, reply,
                    library, problems)
    assert_serving(server)
    assert not problems, f"{len(problems)} problems in {len(requests)} cases:\n" + "\n".join(problems[:30])
    # Both kinds of answer must be exercised, or the fuzz proves little.
    assert codes.get("OK", 0) > 0 and codes.get("INVALID_ARGUMENT", 0) > 0, codes
    print(f"report fuzz: {len(requests)} cases in {time.perf_counter() - started:.1f} s: {codes}")


@pytest.fixture(scope="module")
def reference() -> Iterator[dict]:
    """Both 1.0.1 packs compiled with the plain matcher: the executable specification."""
    packs = {pack_id: load_pack_dir(RULES / pack_id / VERSION, plain_matcher).compiled for pack_id in (PACK, FRAMEWORK)}
    yield packs
    for compiled in packs.values():
        compiled.close()


def test_hostile_text_lists_are_evaluated_as_the_reference_evaluates_them(server, stub, reference) -> None:
    """The same facts through EvaluateBatch: OK equal to the plain reference's reply, or INVALID_ARGUMENT."""
    requests = [r.request for r in _requests() if r.request.pack_id in reference and r.request.version == VERSION
                and r.request.language in (pb.LANGUAGE_UNSPECIFIED, pb.LANGUAGE_ZH, pb.LANGUAGE_EN)]
    results = list(stub.EvaluateBatch((pb.BatchEvaluateRequest(key=str(n), request=r)
                                       for n, r in enumerate(requests)), timeout=DEADLINE_S))
    assert [r.key for r in results] == [str(n) for n in range(len(requests))]
    problems = []
    for number, (request, result) in enumerate(zip(requests, results)):
        facts = convert.facts_from_struct(request.facts)
        try:
            expected = convert.evaluation_message(evaluate(
                reference[request.pack_id], facts, convert.language_code(request.language),
                ignore_unknown=request.ignore_unknown_facts))
        except FactsError:
            expected = None
        where = f"case {number} (JIXIAO_FUZZ_SEED={SEED})"
        if result.HasField("evaluation"):
            result.evaluation.ClearField("decision_id")  # the server's decision log gave it one
        if expected is None and result.HasField("evaluation"):
            problems.append(f"{where}: the reference refuses these facts, the server scored them")
        elif expected is not None and result.evaluation != expected:
            problems.append(f"{where}: {result.error.message[:200] or 'the reply differs from the reference'}")
        elif expected is None and result.error.code != grpc.StatusCode.INVALID_ARGUMENT.value[0]:
            problems.append(f"{where}: code {result.error.code} {result.error.message[:200]}")
    assert not problems, "\n".join(problems[:30])
    assert_serving(server)


def test_strings_that_are_not_utf8_are_an_invalid_argument(server, stub) -> None:
    """A lone surrogate or a broken byte sequence in an observation (a Struct cannot carry one,
    so the request is written by hand): the request does not decode, INVALID_ARGUMENT."""
    facts = case_facts(PACK, "2019")
    facts["evaluation"] = {"observed_problems": ["PLACEHOLDER-ITEM"]}
    good = pb.RenderReportRequest(request=pb.EvaluateRequest(pack_id=PACK, version=VERSION, facts=struct(facts)),
                                  format=pb.REPORT_FORMAT_HTML).SerializeToString()
    with server.channel() as channel:
        render = channel.unary_unary("/jixiao.v1.EvaluationService/RenderReport")
        for spoiled in (b"\xed\xa0\x80ITEM-XYZ", b"\xff\xfe\xfdITEM-XYZ", b"\xc0\x80ITEM-XYZ"):
            body = good.replace(b"PLACEHOLDER-ITEM", spoiled.ljust(len(b"PLACEHOLDER-ITEM"), b"x"))
            assert len(body) == len(good)  # the same length: every length prefix still right
            with pytest.raises(grpc.RpcError) as raised:
                render(body, timeout=DEADLINE_S)
            assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert_serving(server)


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_facts_nested_deeper_than_protobuf_decodes_are_an_invalid_argument(server) -> None:
    """Facts nested 60 and 400 lists deep (a Python client cannot even build such a request:
    the bytes are written by hand): INVALID_ARGUMENT, the server serves on."""
    with server.channel() as channel:
        render = channel.unary_unary("/jixiao.v1.EvaluationService/RenderReport")
        for depth in (60, 400):
            facts = struct_pb2.Struct()
            facts.update({"evaluation": {"observed_problems": ["x"]}})
            value = struct_pb2.Value(string_value="x").SerializeToString()
            for _level in range(depth):  # a ListValue holding the value, as a Value
                value = _field(6, _field(1, value))
            nested = facts.SerializeToString() + _field(1, _field(1, b"deep") + _field(2, value))  # fields["deep"]
            request = _field(1, PACK.encode()) + _field(2, VERSION.encode()) + _field(3, nested)
            body = _field(1, request) + _varint(2 << 3) + _varint(pb.REPORT_FORMAT_MARKDOWN)
            with pytest.raises(grpc.RpcError) as raised:
                render(body, timeout=DEADLINE_S)
            assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
            assert raised.value.details().startswith("request could not be decoded"), raised.value.details()
    assert_serving(server)


def test_requests_around_grpcs_message_limit_are_answered_cleanly(server, stub, library) -> None:
    """An unknown fact of 3.5 MB (ignored on request) and one of 5 MB (past the 4 MiB a
    server receives): the first gets the report (its reply lists the name, not the text),
    the second RESOURCE_EXHAUSTED; the server serves on."""
    base = case_facts(PACK, "2019")
    for size, expected in ((3_500_000, grpc.StatusCode.OK), (5_000_000, grpc.StatusCode.RESOURCE_EXHAUSTED)):
        facts = {**base, "attachment": "附" * (size // 3)}
        request = pb.RenderReportRequest(request=pb.EvaluateRequest(pack_id=PACK, version=VERSION, facts=struct(facts),
                                                                    ignore_unknown_facts=True),
                                         format=pb.REPORT_FORMAT_MARKDOWN)
        code, reply = call(stub, request)
        assert code is expected, code
        if reply is not None:
            assert reply == in_process(request, library)[1]
            assert list(reply.evaluation.ignored_facts) == ["attachment"] and reply.ByteSize() < 1_000_000
    assert_serving(server)


def test_a_burst_of_renders_is_answered_ok_or_resource_exhausted(server, stub, library) -> None:
    """More concurrent HTML renders than the queue holds: each OK (the bytes rendered in
    process) or RESOURCE_EXHAUSTED; some of each."""
    facts = case_facts(PACK, "2019")
    request = pb.RenderReportRequest(request=pb.EvaluateRequest(pack_id=PACK, version=VERSION, facts=struct(facts)),
                                     format=pb.REPORT_FORMAT_HTML)
    expected_code, expected = in_process(request, library)
    assert expected_code is grpc.StatusCode.OK
    burst = WAITING * 4 + 4
    with ThreadPoolExecutor(burst) as pool:
        answers = list(pool.map(lambda _: call(stub, request), range(burst)))
    codes = [code for code, _ in answers]
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes and grpc.StatusCode.OK in codes, codes
    assert all(reply == expected for code, reply in answers if code is grpc.StatusCode.OK)
    assert_serving(server)


def test_cancelled_renders_leave_the_queue_empty(server, stub, library) -> None:
    """Calls cancelled while they wait or render: afterwards as many renders as the queue
    holds are all accepted, and the server serves on."""
    facts = case_facts(PACK, "2019")
    request = pb.RenderReportRequest(request=pb.EvaluateRequest(pack_id=PACK, version=VERSION, facts=struct(facts)),
                                     format=pb.REPORT_FORMAT_DOCX)
    for delay in (0.0, 0.05, 0.2, 0.4):
        futures = [stub.RenderReport.future(request, timeout=DEADLINE_S) for _ in range(6)]
        time.sleep(delay)
        for future in futures:
            future.cancel()
    with grpc.insecure_channel(server.address) as channel:  # a second connection, also dropped mid-render
        other = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        dropped = [other.RenderReport.future(request, timeout=DEADLINE_S) for _ in range(4)]
        time.sleep(0.1)
    del dropped
    markdown = pb.RenderReportRequest(request=request.request, format=pb.REPORT_FORMAT_MARKDOWN)
    _code, expected = in_process(markdown, library)
    # A render in hand cannot be interrupted: it finishes in the render thread, after which
    # its place is free again. A place a cancelled call kept would stay taken for good.
    deadline = time.monotonic() + 30
    while True:
        time.sleep(1)
        with ThreadPoolExecutor(WAITING + 1) as pool:  # one rendering, WAITING waiting: none refused
            answers = list(pool.map(lambda _: call(stub, markdown), range(WAITING + 1)))
        codes = [code for code, _ in answers]
        if codes == [grpc.StatusCode.OK] * (WAITING + 1) or time.monotonic() > deadline:
            break
    assert codes == [grpc.StatusCode.OK] * (WAITING + 1)
    assert all(reply == expected for _, reply in answers)
    assert_serving(server)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc")
def test_memory_does_not_run_away_over_hundreds_of_renders(server, stub) -> None:
    base = case_facts(PACK, "2019")
    big = copy.deepcopy(base)
    big["evaluation"] = {"observed_problems": [f"{n}<script>|" + "问题" * 2_000 for n in range(20)],
                         "observed_recommendations": [f"{n}{{{{ x }}}}" + "建议" * 2_000 for n in range(20)]}
    requests = [pb.RenderReportRequest(request=pb.EvaluateRequest(pack_id=PACK, version=VERSION, facts=struct(f)),
                                       format=fmt)
                for f in (base, big) for fmt in (pb.REPORT_FORMAT_MARKDOWN, pb.REPORT_FORMAT_HTML, pb.REPORT_FORMAT_DOCX)]
    for request in requests:  # warm: fonts, templates, caches
        assert call(stub, request)[0] is grpc.StatusCode.OK
    before = rss_mb(server.process.pid)
    renders = int(os.environ.get("JIXIAO_REPORT_RSS_RENDERS", "150"))
    for number in range(renders):
        request = requests[4] if number % 20 == 19 else requests[3]  # the large facts: HTML 1 in 20, else Markdown
        assert call(stub, request)[0] is grpc.StatusCode.OK
    after = rss_mb(server.process.pid)
    print(f"server RSS {before:.0f} MB before, {after:.0f} MB after {renders} renders")
    assert after - before < RSS_GROWTH_MAX_MB, (before, after)
    assert_serving(server)


EDGE_NUMBERS = ["999999999999999", "999999999999999.9", "0.000000000000001", "1e15", "-0", "0", 1e308, 2 ** 63]
EDGE_FACTS = int(os.environ.get("JIXIAO_REPORT_EDGE_FACTS", "5"))


def _edge_requests() -> list[pb.RenderReportRequest]:
    """Each number fact of both 1.0.1 packs the report prints (budget, spent) or bounds
    (EDGE_FACTS more, drawn with the seed) at its declared bounds and at the engine's limits,
    as Markdown; one in fifteen as HTML."""
    import random

    from jixiao.core.pack.model import FactType

    draw = random.Random(SEED)
    requests = []
    for pack_id, case in ((PACK, "2019"), (FRAMEWORK, "excellent")):
        base = case_facts(pack_id, case)
        pack = load_pack_dir(RULES / pack_id / VERSION, plain_matcher)
        specs = [s for s in pack.pack.facts if s.type in (FactType.DECIMAL, FactType.INTEGER)]
        pack.compiled.close()
        printed = [s for s in specs if s.name.split(".")[-1] in ("budget", "spent", "approved", "actual")]
        for spec in printed + draw.sample(specs, min(EDGE_FACTS, len(specs))):
            bounds = [str(v) for v in (spec.minimum, spec.maximum) if v is not None]
            for value in bounds + draw.sample(EDGE_NUMBERS, 2):
                facts = copy.deepcopy(base)
                node = facts
                *parents, last = spec.name.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[last] = value
                fmt = pb.REPORT_FORMAT_HTML if len(requests) % 15 == 14 else pb.REPORT_FORMAT_MARKDOWN
                requests.append(pb.RenderReportRequest(
                    request=pb.EvaluateRequest(pack_id=pack_id, version=VERSION, facts=struct(facts)), format=fmt))
    return requests


def test_number_facts_at_their_bounds_and_the_engines_limits_make_the_same_report(server, stub, library) -> None:
    problems: list[str] = []
    codes: dict[str, int] = {}
    for number, request in enumerate(_edge_requests()):
        code, reply = call(stub, request)
        codes[code.name] = codes.get(code.name, 0) + 1
        check_reply(f"edge case {number} (JIXIAO_FUZZ_SEED={SEED})", request, code, reply, library, problems)
    assert_serving(server)
    assert not problems, "\n".join(problems[:30])
    assert codes.get("OK", 0) > 0 and codes.get("INVALID_ARGUMENT", 0) > 0, codes


def test_every_text_at_its_limit_is_a_report_within_the_reply_limit_or_resource_exhausted(server, stub,
                                                                                          library) -> None:
    """Every text fact 5,000 characters and every text_list fact full of 5,000-character
    texts, of characters that grow when written (4-byte emoji, HTML's escapes): OK (the
    in-process bytes, under the reply limit) or RESOURCE_EXHAUSTED naming the reply's size."""
    from jixiao.core.pack.model import FactType

    problems: list[str] = []
    codes = []
    for pack_id, case in ((PACK, "2019"), (FRAMEWORK, "excellent")):
        pack = library.get(pack_id, VERSION).pack
        for character in ("🙂", "<"):
            facts = case_facts(pack_id, case)
            for spec in pack.facts:
                *parents, last = spec.name.split(".")
                node = facts
                for part in parents:
                    node = node.setdefault(part, {})
                if spec.type is FactType.TEXT and last in node:
                    node[last] = "x" + character * 4_999
                elif spec.type is FactType.TEXT_LIST:
                    node[last] = [f"{n}" + character * 4_998 for n in range(spec.max_items or 20)]
            for fmt in TEXT_FORMATS:
                request = pb.RenderReportRequest(
                    request=pb.EvaluateRequest(pack_id=pack_id, version=VERSION, facts=struct(facts)), format=fmt)
                code, reply = call(stub, request)
                codes.append(code)
                check_reply(f"{pack_id} {character!r} {fmt}", request, code, reply, library, problems)
    assert not problems, "\n".join(problems)
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    assert_serving(server)


def test_the_server_logged_no_internal_error(server) -> None:
    """After everything above (run in this order): no INTERNAL answer and no traceback in the server's log."""
    log = server.log()
    assert '"code": "INTERNAL"' not in log and "Traceback" not in log, log[-3000:]
