"""Per-retailer extractors; `factory` picks one for a retailer."""
