"""Conversions between the registry's records and the jixiao.v1 admin messages."""

from __future__ import annotations

from typing import Iterable

from jixiao.core.pack.bundle import Bundle, make_bundle
from jixiao.core.errors import PackError, PackProblem
from jixiao.registry.store import Activation, VersionRecord
from jixiao.v1 import admin_pb2 as pb


def bundle_from_files(files: Iterable[pb.PackFile]) -> Bundle:
    """The request's files as a bundle; PackError names every file that is not part of a pack."""
    contents: dict[str, bytes] = {}
    repeated = []
    for file in files:
        if file.path in contents:
            repeated.append(PackProblem("", "sent twice", file.path))
        contents[file.path] = file.content
    if repeated:
        raise PackError(repeated)
    return make_bundle(contents)


def version_message(record: VersionRecord) -> pb.PackVersion:
    return pb.PackVersion(
        pack_id=record.pack_id,
        version=record.version,
        digest=record.digest,
        title=record.title,
        publisher=record.publisher,
        published_at=record.published_at,
        signed_by=record.signed_by or "",
        active=record.active,
    )


def activation_message(activation: Activation) -> pb.Activation:
    return pb.Activation(
        pack_id=activation.pack_id,
        from_version=activation.from_version or "",
        to_version=activation.to_version,
        kind=activation.kind,
        actor=activation.actor,
        at=activation.at,
    )


def activation_response(activation: Activation | None, pack_id: str, version: str, actor: str) -> pb.ActivationResponse:
    """The reply to an activation; `Registry.activate` gives None when the version already was active."""
    if activation is None:
        unchanged = pb.Activation(pack_id=pack_id, from_version=version, to_version=version,
                                  kind="activate", actor=actor)
        return pb.ActivationResponse(activation=unchanged, changed=False)
    return pb.ActivationResponse(activation=activation_message(activation), changed=True)
