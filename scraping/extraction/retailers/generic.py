"""Fallback for retailers without their own extractor: structured data, then configured selectors.

It declares no price selectors of its own: a guessed ".price" would happily read a
"customers also bought" carousel. A retailer configured with selectors only works here.
"""

from __future__ import annotations

from .base import Extractor


class Generic(Extractor):
    name = "generic"
    buy_button_selectors = (
        "button[name='add-to-cart']:not([hidden])",
        "button#add-to-cart",
        "#add-to-cart-button",
        "form[action*='/cart/add'] button[type=submit]",
    )
