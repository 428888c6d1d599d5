"""The PackAdminService: publish, list, activate and roll back pack versions.

Each method converts the request, calls the registry (through the publish gate for a new
version), and refreshes the catalog after a change so that this server's next call sees
it at once; other servers sharing the registry see it through their catalog's watcher.
"""

from __future__ import annotations

import grpc

from jixiao.catalog import RegistryCatalog
from jixiao.registry.publishing import PublishRequest, publish
from jixiao.registry.signing import TrustPolicy, parse_signature
from jixiao.registry.store import Registry
from jixiao.v1 import admin_pb2 as pb
from jixiao.v1 import admin_pb2_grpc

from . import admin_convert as convert
from .auth import caller
from .calls import answer


class PackAdminServicer(admin_pb2_grpc.PackAdminServiceServicer):
    """Serves one registry, and keeps one catalog in step with it."""

    def __init__(self, registry: Registry, catalog: RegistryCatalog, trust: TrustPolicy):
        self._registry = registry
        self._catalog = catalog
        self._trust = trust

    def PublishPackVersion(self, request: pb.PublishPackVersionRequest,
                           context: grpc.ServicerContext) -> pb.PublishPackVersionResponse:
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

        return answer(context, "PublishPackVersion", produce, caller=caller())

    def ListPackVersions(self, request: pb.ListPackVersionsRequest,
                         context: grpc.ServicerContext) -> pb.ListPackVersionsResponse:
        def produce():
            records = self._registry.versions(request.pack_id)
            reply = pb.ListPackVersionsResponse(versions=[convert.version_message(r) for r in records])
            return reply, {"versions": len(records)}

        return answer(context, "ListPackVersions", produce, pack=request.pack_id, caller=caller())

    def ActivatePackVersion(self, request: pb.ActivatePackVersionRequest,
                            context: grpc.ServicerContext) -> pb.ActivationResponse:
        def produce():
            activation = self._registry.activate(request.pack_id, request.version, caller())
            reply = convert.activation_response(activation, request.pack_id, request.version, caller())
            if reply.changed:
                self._catalog.refresh()
            return reply, {"from_version": reply.activation.from_version, "changed": reply.changed}

        return answer(context, "ActivatePackVersion", produce, pack=request.pack_id,
                      version=request.version, caller=caller())

    def RollbackPack(self, request: pb.RollbackPackRequest, context: grpc.ServicerContext) -> pb.ActivationResponse:
        def produce():
            activation = self._registry.rollback(request.pack_id, caller())
            self._catalog.refresh()
            reply = pb.ActivationResponse(activation=convert.activation_message(activation), changed=True)
            return reply, {"from_version": activation.from_version, "to_version": activation.to_version}

        return answer(context, "RollbackPack", produce, pack=request.pack_id, caller=caller())

    def ListActivations(self, request: pb.ListActivationsRequest,
                        context: grpc.ServicerContext) -> pb.ListActivationsResponse:
        def produce():
            history = self._registry.history(request.pack_id)
            reply = pb.ListActivationsResponse(activations=[convert.activation_message(a) for a in history])
            return reply, {"activations": len(history)}

        return answer(context, "ListActivations", produce, pack=request.pack_id, caller=caller())
