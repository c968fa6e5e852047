"""Label/value pairs from specification tables, definition lists and "Label: value" bullets."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from .document import Page, clean
from .reading import Reading

# Amazon wraps labels in direction marks; many sites end them with a colon.
_LABEL_NOISE = re.compile(r"[\u200e\u200f:]")


def spec_pairs(
    page: Page, rows: str, bullets: str | None = None, within: str | None = None
) -> Iterator[tuple[str, str]]:
    """Pairs from table rows (first two cells) and from "Label: value" list items.

    `within` names the blocks holding the specifications: rows are then looked for there only,
    which is much cheaper than matching every row and list item of a large page.
    """
    query = f"{rows}, {bullets}" if bullets else rows
    roots = page.tree.css(within) if within else [page.tree]
    for node in (node for root in roots for node in root.css(query)):
        if node.tag == "tr":
            # Walking the row's children is far cheaper than a CSS query per row.
            cells = []
            child = node.first_child
            while child is not None and len(cells) < 2:
                if child.tag in ("th", "td"):
                    cells.append(child.text(separator=" "))
                child = child.next
            if len(cells) == 2:
                yield cells[0], cells[1]
        else:
            label, _, value = node.text(separator=" ").partition(":")
            if value:
                yield label, value


def definition_pairs(page: Page, lists: str) -> Iterator[tuple[str, str]]:
    for term in page.tree.css(lists):
        value = term.next
        while value is not None and value.tag != "dd":
            value = value.next
        if value is not None:
            yield term.text(separator=" "), value.text(separator=" ")


def read_labelled_ids(
    reading: Reading, pairs: Iterator[tuple[str, str]], labels: Mapping[str, str]
) -> None:
    for label, value in pairs:
        kind = labels.get(clean(_LABEL_NOISE.sub("", label)).lower())
        if kind:
            reading.set_id(kind, clean(_LABEL_NOISE.sub("", value)))
