"""Search: query building with weights, retrieval, agreement re-ranking, explanations."""

from sensorium.search.explain import Explanation
from sensorium.search.query import Query, parse_weights
from sensorium.search.search import SORTS, Hit, Page, SearchState, search, search_page, similar
from sensorium.search.syntax import Chip, Parsed, parse, parse_query

__all__ = [
    "SORTS",
    "Chip",
    "Explanation",
    "Hit",
    "Page",
    "Parsed",
    "Query",
    "SearchState",
    "parse",
    "parse_query",
    "parse_weights",
    "search",
    "search_page",
    "similar",
]
