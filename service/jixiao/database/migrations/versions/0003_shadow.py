"""Shadow evaluation: the runs (a candidate version beside the live one) and their samples.

Revision ID: 0003_shadow
Revises: 0002_decision_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_shadow"
down_revision = "0002_decision_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("pack_id", sa.String(200), nullable=False),
        sa.Column("candidate_version", sa.String(100), nullable=False),
        sa.Column("candidate_digest", sa.String(64), nullable=False),
        sa.Column("sample", sa.String(20), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("stopped_at", sa.String(40), nullable=True),
        sa.Column("stopped_by", sa.String(200), nullable=True),
    )
    op.create_index("shadow_runs_by_pack", "shadow_runs", ["pack_id", "started_at"])
    op.create_table(
        "shadow_samples",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("live_version", sa.String(100), nullable=False),
        sa.Column("live_total", sa.String(40), nullable=False),
        sa.Column("live_grade", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("candidate_total", sa.String(40), nullable=True),
        sa.Column("candidate_grade", sa.String(100), nullable=True),
        sa.Column("nodes", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("shadow_samples")
    op.drop_table("shadow_runs")
