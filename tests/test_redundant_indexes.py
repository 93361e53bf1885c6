"""No table of ours carries an index that another index on it already gives: every insert
and every state change writes each index of its row (a claim updates the question's state
and holder, so each index of the question table takes a new entry). The database is read
as the migrations left it, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db

OURS = ("helpdesk", "routing", "charter", "reports", "monitoring")


def our_models(*, auto_created: bool = False) -> list[type[models.Model]]:
    """The models of our apps (with ``auto_created``, the many-to-many tables Django makes)."""
    return [
        model
        for label in OURS
        for model in apps.get_app_config(label).get_models(include_auto_created=auto_created)
    ]


def tables() -> list[str]:
    return sorted({model._meta.db_table for model in our_models(auto_created=True)})


def constraints(table: str) -> dict[str, dict[str, Any]]:
    """The table's indexes and constraints as the database describes them, by name."""
    with connection.cursor() as cursor:
        found: dict[str, dict[str, Any]] = connection.introspection.get_constraints(cursor, table)
    return found


def partial() -> set[str]:
    """The indexes and unique constraints of ours that cover part of the rows (a condition)
    or expressions, which SQLite's introspection does not tell from plain ones: they lead
    nothing for every row."""
    found = set()
    for model in our_models():
        for index in model._meta.indexes:
            if index.condition is not None or index.expressions:
                found.add(index.name)
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and (
                constraint.condition is not None or constraint.expressions
            ):
                found.add(constraint.name)
    return found


def indexes(table: str, skipped: set[str]) -> dict[str, dict[str, Any]]:
    """The table's indexes and keys over every row (``skipped``: :func:`partial`'s), by name.
    PostgreSQL's ``_like`` twin of a text column's index (``varchar_pattern_ops``, for
    ``LIKE 'x%'``) answers other queries than the plain one, so it is no one's repeat."""
    return {
        name: about
        for name, about in constraints(table).items()
        if (about["index"] or about["unique"] or about["primary_key"])
        and about["columns"]
        and None not in about["columns"]
        and not name.endswith("_like")
        and name not in skipped
    }


def repeats(table: str, skipped: set[str]) -> list[str]:
    """Plain indexes whose columns lead another index or key of the same table."""
    found = indexes(table, skipped)
    out = []
    for name, about in found.items():
        if about["unique"] or about["primary_key"]:
            continue
        columns = about["columns"]
        for other, theirs in found.items():
            led = other != name and theirs["columns"][: len(columns)] == columns
            # Of two plain indexes on the same columns, the second by name is the repeat.
            if led and (len(theirs["columns"]) > len(columns) or other < name):
                out.append(f"{table}.{name} {columns} is led by {other}")
                break
    return out


def test_no_index_repeats_what_another_index_of_its_table_gives() -> None:
    skipped = partial()
    found = [line for table in tables() for line in repeats(table, skipped)]
    # Django's own many-to-many table for tags indexes its first column beside the pair's
    # unique key; it is not a model of ours to change.
    found = [line for line in found if not line.startswith("helpdesk_tag_questions.")]
    assert found == []


def test_every_foreign_key_left_without_its_own_index_still_has_its_constraint() -> None:
    # Given the foreign keys whose own index was dropped for an index that leads with them
    unindexed = [
        (model._meta.db_table, field.column)
        for model in our_models()
        for field in model._meta.local_fields
        # the field's own description: db_index=False is written out only where it was set
        if isinstance(field, models.ForeignKey) and field.deconstruct()[3].get("db_index") is False
    ]
    assert len(unindexed) >= 22
    for table, column in unindexed:
        found = constraints(table)
        # Then each is still a foreign key in the database, and an index leads with it
        assert any(c["foreign_key"] and c["columns"] == [column] for c in found.values()), (
            table,
            column,
        )
        assert any(
            (c["index"] or c["unique"]) and c["columns"][:1] == [column] for c in found.values()
        ), (table, column)
