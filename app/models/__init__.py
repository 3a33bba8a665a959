from app.models.tables import (
    AIModel,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
    SearchName,
    metadata,
)

__all__ = [
    "AIModel",
    "Chip",
    "ChipSupport",
    "Citation",
    "Document",
    "Investment",
    "InvestmentParticipant",
    "Organization",
    "SearchName",
    "metadata",
]
