"""Pack administration done in this process on a registry file, as the server would do it.

`RegistryAdmin` has `JixiaoClient`'s admin methods. It runs the server's own steps (the
same request conversion, the same publish gate, the same registry calls) and turns
refusals into the server's own statuses, so `--registry PATH` prints exactly what
`--server` prints. The actor recorded is the one the caller names, not a token.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from jixiao.api import admin_convert as convert
from jixiao.api.errors import status_for
from jixiao.api.refusals import REFUSALS
from jixiao.core.pack.bundle import Bundle
from jixiao.registry.publishing import PublishRequest, publish
from jixiao.registry.signing import TrustPolicy, parse_signature
from jixiao.v1 import admin_pb2 as pb

from .client import error_from_status
from .registry_file import open_registry_file

_REFUSALS = tuple(REFUSALS)


class RegistryAdmin:
    """Publishes, lists, activates and rolls back in one registry file, as `actor`."""

    def __init__(self, path: Path, actor: str, trust: TrustPolicy = TrustPolicy(), create: bool = False):
        self._registry = open_registry_file(path, create)
        self._actor = actor
        self._trust = trust

    def publish(self, files: Mapping[str, bytes], signature: str = "") -> pb.PublishPackVersionResponse:
        """Publish a pack version's files (path → content) through the gate."""
        with _as_status():
            bundle = convert.bundle_from_files(pb.PackFile(path=p, content=c) for p, c in files.items())
            signed = parse_signature(signature) if signature else None
            outcome = publish(self._registry, PublishRequest(bundle, self._actor, signed), self._trust)
        return pb.PublishPackVersionResponse(version=convert.version_message(outcome.record),
                                             created=outcome.created)

    def list_versions(self, pack_id: str) -> list[pb.PackVersion]:
        """A pack's published versions, oldest first, the active one flagged."""
        with _as_status():
            return [convert.version_message(record) for record in self._registry.versions(pack_id)]

    def activate(self, pack_id: str, version: str) -> pb.ActivationResponse:
        """Make a published version the active one; `changed` is False if it already was."""
        with _as_status():
            activation = self._registry.activate(pack_id, version, self._actor)
        return convert.activation_response(activation, pack_id, version, self._actor)

    def rollback(self, pack_id: str) -> pb.ActivationResponse:
        """Re-activate the version that was active before the current one."""
        with _as_status():
            activation = self._registry.rollback(pack_id, self._actor)
        return pb.ActivationResponse(activation=convert.activation_message(activation), changed=True)

    def history(self, pack_id: str) -> list[pb.Activation]:
        """Every activation and rollback of a pack, oldest first."""
        with _as_status():
            return [convert.activation_message(a) for a in self._registry.history(pack_id)]

    def bundle(self, pack_id: str, version: str) -> Bundle:
        """The files of a published version."""
        with _as_status():
            return self._registry.bundle(pack_id, version)

    def close(self) -> None:
        self._registry.close()

    def __enter__(self) -> "RegistryAdmin":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextmanager
def _as_status() -> Iterator[None]:
    """Raise the registry's refusals as the JixiaoError a server's status would give."""
    try:
        yield
    except _REFUSALS as error:
        raise error_from_status(status_for(error)) from error
