"""Product page extraction: plain functions, no Django.

extract(html, url=..., retailer_currency="USD") -> Extraction
validate_identity(extraction, identifiers={...}, listing_url=..., final_url=...)
"""

from .api import extract
from .factory import UnknownExtractor, extractor_for, extractor_names
from .identity import validate_identity
from .result import Disagreement, Extraction, Identifiers, IdentityResult, Source, Status

__all__ = [
    "Disagreement",
    "Extraction",
    "Identifiers",
    "IdentityResult",
    "Source",
    "Status",
    "UnknownExtractor",
    "extract",
    "extractor_for",
    "extractor_names",
    "validate_identity",
]
