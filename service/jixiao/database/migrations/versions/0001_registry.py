"""The registry of pack versions: versions, the active one per pack, activations, the generation counter.

A database made before migrations has these tables already: only the missing ones are
created, so it is taken over as it is.

Revision ID: 0001_registry
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_registry"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "pack_versions" not in existing:
        op.create_table(
            "pack_versions",
            sa.Column("pack_id", sa.String(200), primary_key=True),
            sa.Column("version", sa.String(100), primary_key=True),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("files", sa.Text, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("publisher", sa.String(200), nullable=False),
            sa.Column("published_at", sa.String(40), nullable=False),
            sa.Column("signature", sa.Text, nullable=True),
            sa.Column("key_id", sa.String(100), nullable=True),
        )
    indexes = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("pack_versions")}
    if "pack_versions_by_digest" not in indexes:
        op.create_index("pack_versions_by_digest", "pack_versions", ["digest"])
    if "active_versions" not in existing:
        op.create_table(
            "active_versions",
            sa.Column("pack_id", sa.String(200), primary_key=True),
            sa.Column("version", sa.String(100), nullable=False),
        )
    if "activations" not in existing:
        op.create_table(
            "activations",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("pack_id", sa.String(200), nullable=False, index=True),
            sa.Column("from_version", sa.String(100), nullable=True),
            sa.Column("to_version", sa.String(100), nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("at", sa.String(40), nullable=False),
        )
    if "registry_state" not in existing:
        op.create_table(
            "registry_state",
            sa.Column("key", sa.String(50), primary_key=True),
            sa.Column("value", sa.Integer, nullable=False),
        )
    state = sa.table("registry_state", sa.column("key", sa.String), sa.column("value", sa.Integer))
    bind = op.get_bind()
    if bind.execute(sa.select(state.c.value).where(state.c.key == "generation")).first() is None:
        bind.execute(sa.insert(state).values(key="generation", value=0))


def downgrade() -> None:
    for table in ("registry_state", "activations", "active_versions", "pack_versions"):
        op.drop_table(table)
