from app.models.tables import (
    AIModel,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
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
    "metadata",
]
