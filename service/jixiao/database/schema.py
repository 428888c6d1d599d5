"""Every table of the service's database, as SQLAlchemy Core tables.

The migrations (migrations/versions) create and change them; this module is what the
code reads and writes through, and a test checks the two agree. Times are RFC 3339
strings in UTC to the millisecond ("2026-12-03T16:47:39.123Z"), which sort as times.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# --- the registry of pack versions --------------------------------------------------

pack_versions = sa.Table(
    "pack_versions", metadata,
    sa.Column("pack_id", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(100), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("files", sa.Text, nullable=False),  # JSON {path: canonical text}
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("publisher", sa.String(200), nullable=False),
    sa.Column("published_at", sa.String(40), nullable=False),
    sa.Column("signature", sa.Text, nullable=True),  # JSON of the signature document
    sa.Column("key_id", sa.String(100), nullable=True),
)

#: The gate looks a bundle up by digest before anything else.
digest_index = sa.Index("pack_versions_by_digest", pack_versions.c.digest)

active_versions = sa.Table(
    "active_versions", metadata,
    sa.Column("pack_id", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(100), nullable=False),
)

activations = sa.Table(
    "activations", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pack_id", sa.String(200), nullable=False, index=True),
    sa.Column("from_version", sa.String(100), nullable=True),
    sa.Column("to_version", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # activate | rollback
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

registry_state = sa.Table(
    "registry_state", metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

# --- the decision log ---------------------------------------------------------------

decisions = sa.Table(
    "decisions", metadata,
    # A UUID whose first 48 bits are the time in ms: ids sort as the decisions were made.
    sa.Column("decision_id", sa.String(36), primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("method", sa.String(40), nullable=False),  # Evaluate | EvaluateBatch | RenderReport
    sa.Column("caller", sa.String(200), nullable=False),  # token name, else "peer:<address>"
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("served_by", sa.String(200), nullable=False),  # host:pid
    sa.Column("item_key", sa.String(200), nullable=True),  # an EvaluateBatch item's key
    sa.Column("pack_id", sa.String(200), nullable=False),
    sa.Column("requested_version", sa.String(100), nullable=False),  # "" for the active one
    sa.Column("version", sa.String(100), nullable=False),  # "" when no version was found
    sa.Column("pack_digest", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("ignore_unknown_facts", sa.Boolean, nullable=False),
    sa.Column("facts", sa.Text, nullable=True),  # canonical JSON; NULL when redacted
    sa.Column("facts_digest", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),  # status code name: OK, INVALID_ARGUMENT…
    sa.Column("score", sa.String(40), nullable=True),
    sa.Column("grade", sa.String(100), nullable=True),
    # The Evaluation serialised without its decision_id, or the google.rpc.Status of a failure.
    sa.Column("reply", sa.LargeBinary, nullable=False),
    sa.Column("reply_digest", sa.String(64), nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
)
decisions_by_time = sa.Index("decisions_by_time", decisions.c.at)
decisions_by_pack = sa.Index("decisions_by_pack", decisions.c.pack_id, decisions.c.decision_id)

# --- shadow evaluation --------------------------------------------------------------

shadow_runs = sa.Table(
    "shadow_runs", metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("pack_id", sa.String(200), nullable=False),
    sa.Column("candidate_version", sa.String(100), nullable=False),
    sa.Column("candidate_digest", sa.String(64), nullable=False),
    sa.Column("sample", sa.String(20), nullable=False),  # a decimal in (0, 1]
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("stopped_at", sa.String(40), nullable=True),
    sa.Column("stopped_by", sa.String(200), nullable=True),
)
shadow_runs_by_pack = sa.Index("shadow_runs_by_pack", shadow_runs.c.pack_id, shadow_runs.c.started_at)

shadow_samples = sa.Table(
    "shadow_samples", metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("decision_id", sa.String(36), primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("live_version", sa.String(100), nullable=False),
    sa.Column("live_total", sa.String(40), nullable=False),
    sa.Column("live_grade", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),  # OK, or the candidate's error code
    sa.Column("candidate_total", sa.String(40), nullable=True),
    sa.Column("candidate_grade", sa.String(100), nullable=True),
    # JSON {node_id: [live score, candidate score]} of every node of the live tree.
    sa.Column("nodes", sa.Text, nullable=True),
)
