"""The market dashboard: where our prices stand against the market, who moved, who breaks MAP,
how probes fare, and how the market trends, for a brand, a category or the whole catalog.

`filters` reads the page's query (plain functions), `selectors` computes every aggregate in the
database, `charts` draws the trend as server-side SVG, `views` serves the page.
"""
