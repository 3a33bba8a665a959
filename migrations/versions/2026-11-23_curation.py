"""Curation: API keys, revisions, and a `revision` counter on every fact table.

Existing facts and documents get revision 1 and a "create" revision by "migration" holding
their current state, so history and `as_of` work on an already-seeded database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlmodel import Session

from app.history.service import current_state, record, utcnow

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, entity type) in an order where references come first
FACT_TABLES = (
    ("organizations", "organization"),
    ("chips", "chip"),
    ("ai_models", "model"),
    ("chip_support", "chip_support"),
    ("investments", "investment"),
)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secret_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_revisions_entity", ["entity_type", "entity_id", "revision"], unique=False
        )
        batch_op.create_index("ix_revisions_recorded_at", ["recorded_at"], unique=False)
    for table, _ in FACT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
            )

    # Backfill: the current state of everything already stored is its first revision.
    connection = op.get_bind()
    at = utcnow()
    with Session(bind=connection) as session:
        for table, entity_type in (*FACT_TABLES, ("documents", "document")):
            ids = connection.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars()
            for entity_id in list(ids):
                state = current_state(session, entity_type, entity_id)
                record(
                    session,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    revision=1,
                    action="create",
                    actor="migration",
                    diff={k: [None, v] for k, v in state.items() if k != "citations"},
                    citations=state.get("citations", []),
                    state=state,
                    at=at,
                )
        session.flush()


def downgrade() -> None:
    for table, _ in reversed(FACT_TABLES):
        # A plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop tables that others
        # reference, which SQLite's foreign keys refuse while data is in them.
        op.execute(f"ALTER TABLE {table} DROP COLUMN revision")
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_revisions_recorded_at")
        batch_op.drop_index("ix_revisions_entity")
    op.drop_table("revisions")
    op.drop_table("api_keys")
