"""Houzz: JSON-LD carries everything; the generic pipeline is enough."""

from __future__ import annotations

from .base import Extractor


class Houzz(Extractor):
    name = "houzz"
    domains = ("houzz.com", "houzz.ca", "houzz.co.uk", "houzz.de", "houzz.fr")
