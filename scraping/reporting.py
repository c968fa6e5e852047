"""Extraction results as plain JSON-ready dicts, for the command line and the API."""

from scraping.extraction import Extraction


def extraction_report(extraction: Extraction) -> dict:
    def money(value):
        return None if value is None else str(value)

    return {
        "status": str(extraction.status),
        "price": money(extraction.price),
        "regular_price": money(extraction.regular_price),
        "currency": extraction.currency,
        "available": extraction.available,
        "availability": extraction.availability,
        "title": extraction.title,
        "identifiers": extraction.identifiers.as_dict(),
        "extractor": extraction.extractor,
        "sources": dict(extraction.sources),
        "disagreements": [str(d) for d in extraction.disagreements],
        "notes": list(extraction.notes),
        "problems": list(extraction.problems),
    }
