"""Search: query building with weights, retrieval, agreement re-ranking, explanations."""

from sensorium.search.query import Query, parse_weights
from sensorium.search.search import Hit, search, similar

__all__ = ["Hit", "Query", "parse_weights", "search", "similar"]
