"""Server reflection under both names clients use: grpc.reflection.v1alpha.ServerReflection
and grpc.reflection.v1.ServerReflection.

grpcio-reflection ships only v1alpha; newer clients (grpcurl, Postman, buf curl) ask for v1
first. The v1 protocol is v1alpha's with the package renamed: the same messages, field
numbers and method, so the same servicer answers it, registered under the v1 name with a
generic handler and v1alpha's (wire-identical) message classes. The v1 file descriptor,
made from v1alpha's by renaming its package, is added to the descriptor pool so that a
client can also describe the v1 service itself. Once grpcio-reflection ships
`grpc_reflection.v1`, serve that instead and drop this module (its generated file would
clash with the descriptor added here).
"""

from __future__ import annotations

from typing import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha import _async as reflection_aio

#: v1alpha's service name (as grpc_reflection.v1alpha.reflection.SERVICE_NAME).
SERVICE_NAME = reflection.SERVICE_NAME
V1ALPHA_PACKAGE = "grpc.reflection.v1alpha"
V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = f"{V1_PACKAGE}.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"


def v1_file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """grpc/reflection/v1/reflection.proto: v1alpha's descriptor with the package renamed."""
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.options.Clear()  # v1alpha's language options (deprecated flag, java package) are its own
    old, new = f".{V1ALPHA_PACKAGE}.", f".{V1_PACKAGE}."
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name[len(old):]
    for service in proto.service:
        for method in service.method:
            method.input_type = new + method.input_type[len(old):]
            method.output_type = new + method.output_type[len(old):]
    return proto


def _add_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    try:
        pool.FindFileByName(V1_FILE)
    except KeyError:
        pool.AddSerializedFile(v1_file_descriptor().SerializeToString())


def enable_server_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Serve reflection for `service_names` under both reflection services, v1alpha and v1
    (each listed among the services), as grpc_reflection.v1alpha's function of this name does
    for v1alpha alone."""
    pool = descriptor_pool.Default()
    _add_v1_descriptor(pool)
    names = tuple(dict.fromkeys((*service_names, SERVICE_NAME, V1_SERVICE_NAME)))
    servicer = reflection_aio.ReflectionServicer(names, pool=pool)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)  # v1alpha
    v1 = grpc.method_handlers_generic_handler(V1_SERVICE_NAME, {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString),
    })
    server.add_generic_rpc_handlers((v1,))
