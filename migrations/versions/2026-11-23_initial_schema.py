"""Initial schema: documents, organizations, models, chips, chip support, investments, citations.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:08:40.293637
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("publisher", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_documents_sha256")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_language"), ["language"], unique=False)

    op.create_table(
        "organizations",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("parent_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizations_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizations_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizations_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizations_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "ai_models",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("developer_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("parameters", sa.BigInteger(), nullable=True),
        sa.Column("active_parameters", sa.BigInteger(), nullable=True),
        sa.Column("open_weights", sa.Boolean(), nullable=True),
        sa.Column("reasoning", sa.Boolean(), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column(
            "release_date_precision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True
        ),
        sa.Column("license", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["organizations.id"],
            name=op.f("fk_ai_models_developer_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_models")),
    )
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_models_developer_id"), ["developer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ai_models_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ai_models_open_weights"), ["open_weights"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ai_models_parameters"), ["parameters"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_models_reasoning"), ["reasoning"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ai_models_release_date"), ["release_date"], unique=False
        )

    op.create_table(
        "chips",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("vendor_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_chips_vendor_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chips")),
    )
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chips_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_chips_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "citations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("stance", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attributed_to", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_citations_document_id_documents"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citations")),
    )
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citations_document_id"), ["document_id"], unique=False)
        batch_op.create_index(
            "ix_citations_entity", ["entity_type", "entity_id", "position"], unique=False
        )

    op.create_table(
        "investments",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recipient_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("amount_usd_min", sa.BigInteger(), nullable=True),
        sa.Column("amount_usd_max", sa.BigInteger(), nullable=True),
        sa.Column("amount_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("amount_approximate", sa.Boolean(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column(
            "announced_on_precision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True
        ),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["organizations.id"],
            name=op.f("fk_investments_recipient_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investments")),
    )
    with op.batch_alter_table("investments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_investments_amount_usd_min"), ["amount_usd_min"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_investments_announced_on"), ["announced_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_investments_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_investments_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_investments_recipient_id"), ["recipient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_investments_status"), ["status"], unique=False)

    op.create_table(
        "chip_support",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("chip_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("vendor_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column(
            "announced_on_precision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chip_id"],
            ["chips.id"],
            name=op.f("fk_chip_support_chip_id_chips"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_chip_support_model_id_ai_models"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_chip_support_vendor_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chip_support")),
    )
    with op.batch_alter_table("chip_support", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chip_support_announced_on"), ["announced_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chip_support_chip_id"), ["chip_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chip_support_model_id"), ["model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chip_support_relation"), ["relation"], unique=False)
        batch_op.create_index(batch_op.f("ix_chip_support_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "investment_participants",
        sa.Column("investment_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investment_id"],
            ["investments.id"],
            name=op.f("fk_investment_participants_investment_id_investments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_investment_participants_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "investment_id", "organization_id", name=op.f("pk_investment_participants")
        ),
    )
    with op.batch_alter_table("investment_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_investment_participants_organization_id"),
            ["organization_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("investment_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investment_participants_organization_id"))

    op.drop_table("investment_participants")
    with op.batch_alter_table("chip_support", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chip_support_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_chip_support_relation"))
        batch_op.drop_index(batch_op.f("ix_chip_support_model_id"))
        batch_op.drop_index(batch_op.f("ix_chip_support_chip_id"))
        batch_op.drop_index(batch_op.f("ix_chip_support_announced_on"))

    op.drop_table("chip_support")
    with op.batch_alter_table("investments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investments_status"))
        batch_op.drop_index(batch_op.f("ix_investments_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_investments_name"))
        batch_op.drop_index(batch_op.f("ix_investments_kind"))
        batch_op.drop_index(batch_op.f("ix_investments_announced_on"))
        batch_op.drop_index(batch_op.f("ix_investments_amount_usd_min"))

    op.drop_table("investments")
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_index("ix_citations_entity")
        batch_op.drop_index(batch_op.f("ix_citations_document_id"))

    op.drop_table("citations")
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chips_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_chips_name"))

    op.drop_table("chips")
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_models_release_date"))
        batch_op.drop_index(batch_op.f("ix_ai_models_reasoning"))
        batch_op.drop_index(batch_op.f("ix_ai_models_parameters"))
        batch_op.drop_index(batch_op.f("ix_ai_models_open_weights"))
        batch_op.drop_index(batch_op.f("ix_ai_models_name"))
        batch_op.drop_index(batch_op.f("ix_ai_models_developer_id"))

    op.drop_table("ai_models")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_parent_id"))
        batch_op.drop_index(batch_op.f("ix_organizations_name"))
        batch_op.drop_index(batch_op.f("ix_organizations_kind"))
        batch_op.drop_index(batch_op.f("ix_organizations_country"))

    op.drop_table("organizations")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_language"))

    op.drop_table("documents")
