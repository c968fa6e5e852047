"""The market dashboard: where our prices stand against the market, who moved, who breaks MAP,
how probes fare, and how the market trends, for a brand, a category or the whole catalog.

`filters` reads the page's query (plain functions), `selectors` computes every aggregate live in
the database (the reference definition), `services` refreshes the rollups from those same
queries every 15 minutes, `rollups` reads the page's sections from them (exact as of the
refresh), `charts` draws the trend as server-side SVG, `views` serves the page.
"""
