"""The decision log: one row per evaluation answered (Evaluate, an EvaluateBatch item, RenderReport).

Revision ID: 0002_decision_log
Revises: 0001_registry
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_decision_log"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("served_by", sa.String(200), nullable=False),
        sa.Column("item_key", sa.String(200), nullable=True),
        sa.Column("pack_id", sa.String(200), nullable=False),
        sa.Column("requested_version", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("pack_digest", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("ignore_unknown_facts", sa.Boolean, nullable=False),
        sa.Column("facts", sa.Text, nullable=True),
        sa.Column("facts_digest", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("score", sa.String(40), nullable=True),
        sa.Column("grade", sa.String(100), nullable=True),
        sa.Column("reply", sa.LargeBinary, nullable=False),
        sa.Column("reply_digest", sa.String(64), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("decisions_by_time", "decisions", ["at"])
    op.create_index("decisions_by_pack", "decisions", ["pack_id", "decision_id"])


def downgrade() -> None:
    op.drop_table("decisions")
