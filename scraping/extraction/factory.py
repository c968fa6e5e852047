"""Choosing the extractor: the name configured on the retailer, else the URL's host."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from .retailers.amazon import Amazon
from .retailers.base import Extractor
from .retailers.bestbuy import BestBuy, BestBuyCanada
from .retailers.buildcom import BuildCom
from .retailers.canadiantire import CanadianTire
from .retailers.costco import Costco
from .retailers.etsy import Etsy
from .retailers.generic import Generic
from .retailers.homedepot import HomeDepot
from .retailers.houzz import Houzz
from .retailers.lowes import Lowes
from .retailers.newegg import Newegg
from .retailers.overstock import Overstock
from .retailers.rona import Rona
from .retailers.walmart import Walmart
from .retailers.watches import Chrono24, Jomashop, WatchDealer
from .retailers.wayfair import Wayfair
from .retailers.williams_sonoma import WilliamsSonoma

EXTRACTORS: tuple[type[Extractor], ...] = (
    Amazon,
    HomeDepot,
    Costco,
    Wayfair,
    Walmart,
    Lowes,
    Rona,
    BuildCom,
    CanadianTire,
    Houzz,
    BestBuy,
    BestBuyCanada,
    Newegg,
    Etsy,
    Overstock,
    WilliamsSonoma,
    Chrono24,
    Jomashop,
    WatchDealer,
    Generic,
)
_BY_NAME = {cls.name: cls for cls in EXTRACTORS}


class UnknownExtractor(ValueError):
    pass


def extractor_names() -> list[str]:
    """For the retailer admin's choices."""
    return sorted(_BY_NAME)


@lru_cache(maxsize=1024)
def _class_for_host(host: str) -> type[Extractor]:
    return next((cls for cls in EXTRACTORS if cls.handles_host(host)), Generic)


def extractor_class(*, url: str | None = None, extractor: str | None = None) -> type[Extractor]:
    if extractor:
        try:
            return _BY_NAME[extractor.strip().lower()]
        except KeyError:
            raise UnknownExtractor(
                f"no extractor named {extractor!r}; choose one of {', '.join(extractor_names())}"
            ) from None
    host = (urlsplit(url).hostname or "").lower() if url else ""
    return _class_for_host(host) if host else Generic


def extractor_for(
    *,
    url: str | None = None,
    extractor: str | None = None,
    selectors: Mapping[str, object] | None = None,
) -> Extractor:
    return extractor_class(url=url, extractor=extractor)(selectors)
