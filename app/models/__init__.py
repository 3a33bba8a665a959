from app.models.tables import (
    AIModel,
    ApiKey,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
    Revision,
    SearchName,
    metadata,
)

__all__ = [
    "AIModel",
    "ApiKey",
    "Chip",
    "ChipSupport",
    "Citation",
    "Document",
    "Investment",
    "InvestmentParticipant",
    "Organization",
    "Revision",
    "SearchName",
    "metadata",
]
