"""What the ops commands print: published versions, the activation history, and one line
for each publish, activation or rollback."""

from __future__ import annotations

from rich.table import Column, Table
from rich.text import Text

from jixiao.v1 import admin_pb2

from .cells import short_digest

ACTIVE_MARK = "✓"
NOTHING = "—"
HEADINGS = {
    "zh": {"versions": ("版本", "sha256", "发布者", "发布时间", "签名密钥", "默认"),
           "history": ("时间", "操作", "从 → 到", "操作者")},
    "en": {"versions": ("version", "digest", "publisher", "published at", "signed by", "active"),
           "history": ("at", "kind", "from → to", "actor")},
}


def render_versions(versions: list[admin_pb2.PackVersion], language: str = "zh") -> Table:
    """One row per published version, oldest first; the active one marked and bold."""
    table = Table(*(Column(heading, no_wrap=True) for heading in HEADINGS[language]["versions"]))
    for version in versions:
        table.add_row(version.version, short_digest(version.digest), version.publisher,
                      version.published_at, version.signed_by or NOTHING,
                      ACTIVE_MARK if version.active else "",
                      style="bold green" if version.active else None)
    return table


def render_history(activations: list[admin_pb2.Activation], language: str = "zh") -> Table:
    """Every activation and rollback, oldest first (the kinds as `--format json` names them)."""
    table = Table(*(Column(heading, no_wrap=True) for heading in HEADINGS[language]["history"]))
    for activation in activations:
        table.add_row(activation.at, activation.kind,
                      f"{activation.from_version or NOTHING} → {activation.to_version}", activation.actor,
                      style="yellow" if activation.kind == "rollback" else None)
    return table


def publish_line(reply: admin_pb2.PublishPackVersionResponse) -> Text:
    """"published id@version …" for a new version, "unchanged: …" for a repeat."""
    version = reply.version
    ref = f"{version.pack_id}@{version.version}"
    if not reply.created:
        return Text(f"unchanged: {ref} is already published with these files "
                    f"(sha256 {version.digest})", style="yellow")
    signed = f"signed by key {version.signed_by}" if version.signed_by else "unsigned"
    line = Text.assemble(("published", "bold green"),
                         f" {ref}  sha256 {version.digest}  by {version.publisher}  {signed}")
    if not version.active:
        line.append(f"\nnot active yet: jixiao pack activate {version.pack_id} {version.version}")
    return line


def activation_line(reply: admin_pb2.ActivationResponse) -> Text:
    """What an activation or rollback changed, or that nothing did."""
    activation = reply.activation
    if not reply.changed:
        return Text(f"unchanged: {activation.pack_id}@{activation.to_version} is already active",
                    style="yellow")
    verb = "rolled back to" if activation.kind == "rollback" else "activated"
    was = f" (was {activation.from_version})" if activation.from_version else ""
    return Text.assemble((verb, "bold green"), f" {activation.pack_id}@{activation.to_version}{was}"
                                               f"  by {activation.actor}")
