"""The loop's statements go to PostgreSQL with its own placeholders, converted once
(``helpdesk.on_loop.native``)."""

from __future__ import annotations

import pytest

from helpdesk import on_loop


def test_each_placeholder_becomes_the_next_number_and_a_doubled_percent_one_percent() -> None:
    sql = "SELECT %s, x LIKE 'a%%' FROM t WHERE y = %s AND z = ANY(%s)"
    assert on_loop.native(sql) == "SELECT $1, x LIKE 'a%' FROM t WHERE y = $2 AND z = ANY($3)"
    # Converted once: the same text gives the same answer, kept
    assert on_loop.native(sql) is on_loop.native(sql)


def test_a_statement_without_placeholders_is_sent_as_it_is() -> None:
    assert on_loop.native("SET plan_cache_mode = force_generic_plan") == (
        "SET plan_cache_mode = force_generic_plan"
    )


@pytest.mark.parametrize("sql", ["SELECT %d", "SELECT %(name)s", "SELECT 1 %% 2 %"])
def test_any_other_percent_sign_is_refused_and_says_which_statement(sql: str) -> None:
    # A stray percent sign (a format psycopg would read otherwise, or one alone at the end)
    # would shift every later number, or be sent as it is: refused, and nothing is kept
    with pytest.raises(ValueError, match="only %s and %% may follow a percent sign: 'SELECT"):
        on_loop.native(sql)
    assert sql not in on_loop._natives
