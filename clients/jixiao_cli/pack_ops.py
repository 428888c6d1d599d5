"""`jixiao pack publish`, `versions`, `activate`, `rollback` and `history`: shipping pack
versions to a server, or straight into a registry file."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
import grpc

from jixiao.v1 import admin_pb2

from . import exit_codes
from .admin_view import activation_line, publish_line, render_history, render_versions
from .client import JixiaoError
from .exit_codes import CliError
from .gate_report import render_gate_refusal
from .output import console, echo_json, format_option, language_option, message_dict
from .pack_folder import pack_dir_argument, pack_files, read_signature
from .targets import admin_read_options, admin_target_options, open_admin, publish_trust_options

pack_id_argument = click.argument("pack_id", metavar="ID")

#: The role a server asks of a change to its packs.
ADMIN_ROLE = "deploy"
#: What it asks of a read (`pack versions`, `pack history`): what evaluating asks, which is
#: nothing unless the server requires tokens for evaluation.
READ_ROLE = "evaluate or deploy"


@contextmanager
def needing_the_admin_role(ctx: click.Context, role: str = ADMIN_ROLE) -> Iterator[None]:
    """A server's refusal for want of a token said with the role the call needs."""
    try:
        yield
    except JixiaoError as error:
        if error.code != grpc.StatusCode.UNAUTHENTICATED:
            raise
        raise CliError(f"not authenticated: {error.message} (`{ctx.command_path}` on a server needs a token "
                       f"with the {role} role: --token or $JIXIAO_TOKEN)", exit_codes.DENIED) from None


@click.command("publish")
@pack_dir_argument
@admin_target_options
@publish_trust_options
@click.pass_context
def publish_pack(ctx: click.Context, directory: Path, **_target: object) -> None:
    """Publish the pack in DIR through the gate.

    Sends pack.yaml, cases/*.yaml and signature.json (if present). The gate validates
    and compiles the pack and runs every golden case; a refused pack's failing cases are
    printed and the command exits 1. Publishing the same files again changes nothing; a
    published version never takes other files.
    """
    files = pack_files(directory)
    signature = read_signature(directory)
    with open_admin(ctx, create_registry=True) as admin, needing_the_admin_role(ctx):
        try:
            reply = admin.publish(files, signature)
        except JixiaoError as error:
            if error.code == grpc.StatusCode.FAILED_PRECONDITION and error.preconditions:
                details = render_gate_refusal(error)
                if details is not None:
                    console().print(details)
                raise CliError(f"publish refused: {error.message}", exit_codes.FAILED) from None
            raise
    if signature and not reply.created and not reply.version.signed_by:
        ref = f"{reply.version.pack_id}@{reply.version.version}"
        raise CliError(f"signature not recorded: {ref} is already published unsigned "
                       f"(sha256 {reply.version.digest}), and a published version never changes, "
                       "so a signature cannot be added to it: publish the signed pack as a new version",
                       exit_codes.FAILED)
    console().print(publish_line(reply))


@click.command("versions")
@pack_id_argument
@admin_read_options
@format_option
@language_option
@click.pass_context
def list_versions(ctx: click.Context, pack_id: str, output_format: str, language: str,
                  **_target: object) -> None:
    """List a pack's published versions.

    Shows each one's digest, publisher, time and signer, and marks the active one.
    """
    with open_admin(ctx) as admin, needing_the_admin_role(ctx, READ_ROLE):
        versions = admin.list_versions(pack_id)
    if output_format == "json":
        echo_json(message_dict(admin_pb2.ListPackVersionsResponse(versions=versions)))
    else:
        console().print(render_versions(versions, language))


@click.command("activate")
@pack_id_argument
@click.argument("version", metavar="VERSION")
@admin_target_options
@click.pass_context
def activate_version(ctx: click.Context, pack_id: str, version: str, **_target: object) -> None:
    """Make a published version the one used when a request names none."""
    with open_admin(ctx) as admin, needing_the_admin_role(ctx):
        reply = admin.activate(pack_id, version)
    console().print(activation_line(reply))


@click.command("rollback")
@pack_id_argument
@admin_target_options
@click.pass_context
def rollback_pack(ctx: click.Context, pack_id: str, **_target: object) -> None:
    """Re-activate the version that was active before the current one."""
    with open_admin(ctx) as admin, needing_the_admin_role(ctx):
        reply = admin.rollback(pack_id)
    console().print(activation_line(reply))


@click.command("history")
@pack_id_argument
@admin_read_options
@format_option
@language_option
@click.pass_context
def activation_history(ctx: click.Context, pack_id: str, output_format: str, language: str,
                       **_target: object) -> None:
    """List a pack's activations and rollbacks.

    Shows when, from and to which version, and by whom.
    """
    with open_admin(ctx) as admin, needing_the_admin_role(ctx, READ_ROLE):
        activations = admin.history(pack_id)
    if output_format == "json":
        echo_json(message_dict(admin_pb2.ListActivationsResponse(activations=activations)))
    else:
        console().print(render_history(activations, language))
