"""person: in the search syntax, the API's pattern and the filter it becomes."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from sensorium.search.query import PERSON_ONLY
from sensorium.search.syntax import ACCEPTED, parse, parse_query
from sensorium.store.base import Filter


def test_person_is_a_filter() -> None:
    p = parse('person:"Ada  Lovelace" smiling')
    assert p.filters.person == "Ada Lovelace" and p.text == "smiling"
    assert [c.key for c in p.chips] == ["person"]


def test_person_alone_looks_for_a_person() -> None:
    q = parse_query("person:Ada")
    assert q.text == PERSON_ONLY and q.filters.person == "Ada"


def test_two_people_in_one_query_match_nothing() -> None:
    assert parse("person:ada person:bob x").impossible


@pytest.mark.parametrize("q", ["person:Ada", 'person:"Ada Lovelace"', "dog person:Ada",
                               "person:Ada type:image", "type:image person:Ada"])  # fmt: skip
def test_the_api_pattern_admits_person(q: str) -> None:
    assert re.search(ACCEPTED, q)
    assert parse_query(q).text


def test_paths_filter_sql_and_mask_agree() -> None:
    where = Filter(paths=frozenset({"/a/it's.jpg", "/b.jpg"}))
    assert where.sql() == "path IN ('/a/it''s.jpg', '/b.jpg')"
    assert Filter(paths=frozenset()).sql() == "false"
    columns = {"kind": pa.array(["image"] * 3),
               "path": pa.array(["/a/it's.jpg", "/c.jpg", "/b.jpg"])}  # fmt: skip
    assert where.mask(columns).tolist() == [True, False, True]
    assert Filter(person="Ada").sql() is None  # resolved by the collection, not the store
