"""A hot path's statement prepared once per PostgreSQL connection (moderation/prepared_statements.py)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

import pytest

from moderation.prepared_statements import PreparedStatement, Slot

pytestmark = pytest.mark.django_db(transaction=True)


def joined() -> PreparedStatement:
    # Each call's values in the slots, the constant between them inlined.
    return PreparedStatement(
        "SELECT CAST(%s AS text) || CAST(%s AS text) || CAST(%s AS text)", [Slot(0), "-", Slot(1)], label="test_join"
    )


def run(statement: PreparedStatement, values: list) -> str:
    with statement.execute(connection, values) as cursor:
        return cursor.fetchone()[0]


def sent(captured) -> list[str]:
    return [query["sql"].split(" ", 2)[0] for query in captured]


def test_a_statement_answers_each_call_with_its_values():
    statement = joined()
    assert run(statement, ["a", "b"]) == "a-b"
    assert run(statement, ["甲", "乙"]) == "甲-乙"


def test_a_statement_is_prepared_once_per_connection_and_again_after_a_reconnect():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs the SQL as it is")
    statement = joined()
    with CaptureQueriesContext(connection) as first:
        run(statement, ["a", "b"])
        run(statement, ["c", "d"])
    assert sent(first) == ["PREPARE", "EXECUTE", "EXECUTE"]
    connection.close()  # a new server session has no prepared statements
    with CaptureQueriesContext(connection) as second:
        assert run(statement, ["e", "f"]) == "e-f"
    assert sent(second) == ["PREPARE", "EXECUTE"]


def test_a_statement_deallocated_by_the_server_fails_once_then_is_prepared_again():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs the SQL as it is")
    statement = joined()
    run(statement, ["a", "b"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does
        with pytest.raises(DatabaseError):
            run(statement, ["c", "d"])
        assert run(statement, ["e", "f"]) == "e-f"
    finally:
        connection.close()  # the gate's statements went too: later tests start on a fresh session


def test_a_statement_refuses_the_wrong_number_of_values():
    with pytest.raises(ValueError):
        run(joined(), ["only one"])
