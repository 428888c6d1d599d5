"""The PackAdminService: publish, list, activate and roll back pack versions; shadow runs.

Each method checks the request's pack id and version (whole strings, bounded), converts
the request, calls the registry (through the publish gate for a new version), and
refreshes the catalog after a change so that this server's next call sees it at once;
other servers sharing the registry see it through their catalog's watcher. Every call
waits on the registry or on the gate's trial process, so it runs in a worker thread
(`answer(..., blocking=True)`): the event loop serves evaluations meanwhile.

StartShadow, GetShadowReport and StopShadow keep shadow runs in the same database
(jixiao.shadow); a server started without the decision log refuses StartShadow (it takes
no samples), and reports and stops runs all the same.
"""

from __future__ import annotations

import grpc

from jixiao.catalog import RegistryCatalog
from jixiao.core.identifiers import check_pack_id, check_version, echo
from jixiao.registry.publishing import PublishRequest, publish
from jixiao.registry.signing import TrustPolicy, parse_signature
from jixiao.registry.store import Registry
from jixiao.shadow.report import aggregate
from jixiao.shadow.runner import ShadowSink
from jixiao.shadow.runs import ShadowNeedsDecisionLog, ShadowRuns
from jixiao.v1 import admin_pb2 as pb

from . import admin_convert as convert
from . import page_tokens
from .auth import caller
from .calls import answer
from .shadow_checks import check_run_id, check_sample, check_worst


class PackAdminServicer:
    """Serves one registry, and keeps one catalog in step with it."""

    def __init__(self, registry: Registry, catalog: RegistryCatalog, trust: TrustPolicy,
                 shadow: ShadowSink | None = None):
        self._registry = registry
        self._catalog = catalog
        self._trust = trust
        # The shadow runs' sink of this server (None without the decision log: no samples here).
        self._shadow = shadow
        self._shadow_runs = shadow.runs if shadow is not None else ShadowRuns(registry.engine)

    async def PublishPackVersion(self, request: pb.PublishPackVersionRequest,
                                 context: grpc.aio.ServicerContext) -> pb.PublishPackVersionResponse:
        def produce():
            bundle = convert.bundle_from_files(request.files)
            signature = parse_signature(request.signature) if request.signature else None
            outcome = publish(self._registry, PublishRequest(bundle, caller(), signature), self._trust)
            if outcome.created:
                self._catalog.refresh()
            record = outcome.record
            reply = pb.PublishPackVersionResponse(version=convert.version_message(record), created=outcome.created)
            return reply, {"pack": record.pack_id, "version": record.version, "digest": record.digest,
                           "created": outcome.created}

        return await answer(context, "PublishPackVersion", produce, blocking=True, caller=caller())

    async def ListPackVersions(self, request: pb.ListPackVersionsRequest,
                               context: grpc.aio.ServicerContext) -> pb.ListPackVersionsResponse:
        def produce():
            if request.pack_id:  # none: every pack's versions
                check_pack_id(request.pack_id)
            records = self._registry.versions(request.pack_id)
            reply = pb.ListPackVersionsResponse(versions=[convert.version_message(r) for r in records])
            return reply, {"versions": len(records)}

        return await answer(context, "ListPackVersions", produce, blocking=True, pack=echo(request.pack_id),
                            caller=caller())

    async def ActivatePackVersion(self, request: pb.ActivatePackVersionRequest,
                                  context: grpc.aio.ServicerContext) -> pb.ActivationResponse:
        def produce():
            check_pack_id(request.pack_id)
            check_version(request.version)
            activation = self._registry.activate(request.pack_id, request.version, caller())
            reply = convert.activation_response(activation, request.pack_id, request.version, caller())
            if reply.changed:
                self._catalog.refresh()
            return reply, {"from_version": reply.activation.from_version, "changed": reply.changed}

        return await answer(context, "ActivatePackVersion", produce, blocking=True, pack=echo(request.pack_id),
                            version=echo(request.version), caller=caller())

    async def RollbackPack(self, request: pb.RollbackPackRequest,
                           context: grpc.aio.ServicerContext) -> pb.ActivationResponse:
        def produce():
            check_pack_id(request.pack_id)
            activation = self._registry.rollback(request.pack_id, caller())
            self._catalog.refresh()
            reply = pb.ActivationResponse(activation=convert.activation_message(activation), changed=True)
            return reply, {"from_version": activation.from_version, "to_version": activation.to_version}

        return await answer(context, "RollbackPack", produce, blocking=True, pack=echo(request.pack_id),
                            caller=caller())

    async def ListActivations(self, request: pb.ListActivationsRequest,
                              context: grpc.aio.ServicerContext) -> pb.ListActivationsResponse:
        def produce():
            check_pack_id(request.pack_id)
            size = page_tokens.page_size(request.page_size)
            after = page_tokens.read_token(request.pack_id, request.page_token)
            page = self._registry.history_page(request.pack_id, after, size + 1)  # one more: is there a next page?
            shown = page[:size]
            more = len(page) > size
            reply = pb.ListActivationsResponse(
                activations=[convert.activation_message(a) for _, a in shown],
                next_page_token=page_tokens.make_token(request.pack_id, shown[-1][0]) if more else "")
            return reply, {"activations": len(shown), "more": more}

        return await answer(context, "ListActivations", produce, blocking=True, pack=echo(request.pack_id),
                            caller=caller())

    # --- shadow evaluation ----------------------------------------------------------

    async def StartShadow(self, request: pb.StartShadowRequest,
                          context: grpc.aio.ServicerContext) -> pb.StartShadowResponse:
        def produce():
            check_pack_id(request.pack_id)
            check_version(request.candidate_version, "candidate_version")
            sample = check_sample(request.sample)
            if self._shadow is None:
                raise ShadowNeedsDecisionLog()
            record = self._registry.record(request.pack_id, request.candidate_version)  # published?
            self._catalog.get(request.pack_id, record.version)  # served here (its signature trusted)? compiled now
            run = self._shadow_runs.start(request.pack_id, record.version, record.digest, sample, caller())
            self._shadow.refresh()  # this server samples from its next call on
            return pb.StartShadowResponse(run=convert.shadow_run_message(run)), {
                "run": run.run_id, "candidate_digest": run.candidate_digest, "sample": sample}

        return await answer(context, "StartShadow", produce, blocking=True, pack=echo(request.pack_id),
                            candidate=echo(request.candidate_version), caller=caller())

    async def GetShadowReport(self, request: pb.GetShadowReportRequest,
                              context: grpc.aio.ServicerContext) -> pb.GetShadowReportResponse:
        def produce():
            check_pack_id(request.pack_id)
            if request.run_id:
                check_run_id(request.run_id)
            worst = check_worst(request.worst)
            run = self._shadow_runs.run(request.pack_id, request.run_id)
            figures = aggregate(self._shadow_runs.samples(run.run_id), self._indicator_names(run.pack_id), worst)
            reply = convert.shadow_report_response(run, figures)
            return reply, {"run": run.run_id, "samples": figures.samples, "running": run.running}

        return await answer(context, "GetShadowReport", produce, blocking=True, pack=echo(request.pack_id),
                            requested_run=echo(request.run_id), caller=caller())

    async def StopShadow(self, request: pb.StopShadowRequest,
                         context: grpc.aio.ServicerContext) -> pb.StopShadowResponse:
        def produce():
            check_pack_id(request.pack_id)
            run = self._shadow_runs.stop(request.pack_id, caller())
            if self._shadow is not None:
                self._shadow.refresh()
            return pb.StopShadowResponse(run=convert.shadow_run_message(run)), {"run": run.run_id}

        return await answer(context, "StopShadow", produce, blocking=True, pack=echo(request.pack_id),
                            caller=caller())

    def _indicator_names(self, pack_id: str):
        """live version → its indicators' names (Chinese, as the pack writes them first); {} if not served."""
        def names(version: str) -> dict[str, str]:
            try:
                compiled = self._catalog.get(pack_id, version)
            except LookupError:  # a version no longer served here: its ids alone
                return {}
            return {node.id: node.name.zh for top in compiled.pack.indicators for node in top.walk()}
        return names
