"""Migration operations of our own, for changes a stock operation would make the slow way on
a live desk."""

from __future__ import annotations

from typing import Any

from django.db import migrations


class DropForeignKeyIndex(migrations.AlterField):
    """A foreign key's change to ``db_index=False``: in the models' state, Django's own
    ``AlterField``; in the database, only the column's own index is dropped (concurrently on
    PostgreSQL, when the migration is not atomic).

    Django's ``AlterField`` drops the foreign key constraint and adds it back around the
    index, and adding it back reads every row of the table under a lock that stops writes:
    on the question or audit table of a desk in service, that is every claim waiting for the
    migration. The constraint is the same before and after, so it is left alone."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        connection = schema_editor.connection
        column = model._meta.get_field(self.name).column
        named = {index.name for index in model._meta.indexes}
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
        concurrently = connection.vendor == "postgresql" and not connection.in_atomic_block
        for name, about in found.items():
            if (
                about["index"]
                and not about["unique"]
                and not about["primary_key"]
                and about["columns"] == [column]
                and name not in named
            ):
                schema_editor.execute(
                    f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}"
                    f"IF EXISTS {schema_editor.quote_name(name)}"
                )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            field = model._meta.get_field(self.name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    def describe(self) -> str:
        return f"Drop the own index of {self.model_name}.{self.name}"
