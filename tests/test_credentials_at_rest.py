"""Care accounts' X credentials are encrypted in the database and plain in the code; rows
stored in plain text before are encrypted by the migration, and a tampered value fails
loudly instead of reaching X."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from helpdesk.crypto import TokenDecryptionError, decrypt_token
from helpdesk.models import XAccount
from tests.factories import make_account, make_brand

SECRETS = ("bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret")
BEFORE = "0007_reply_from_linked_account"
ENCRYPTING = "0008_encrypt_care_account_credentials"


def raw_row(pk: int) -> dict[str, str]:
    with connection.cursor() as cursor:
        columns = ", ".join(SECRETS)  # our own constant column names
        cursor.execute(f"SELECT {columns} FROM helpdesk_xaccount WHERE id = %s", [pk])  # noqa: S608
        values = cursor.fetchone()
    return dict(zip(SECRETS, values, strict=True))


@pytest.mark.django_db
def test_credentials_are_stored_encrypted_and_read_plain() -> None:
    account = make_account(make_brand(), bearer_token="AAAA-bearer-secret", consumer_key="")

    stored = raw_row(account.pk)
    loaded = XAccount.objects.get(pk=account.pk)

    assert loaded.bearer_token == "AAAA-bearer-secret"
    assert "bearer-secret" not in stored["bearer_token"]
    assert decrypt_token(stored["bearer_token"]) == "AAAA-bearer-secret"
    assert stored["consumer_key"] == "" and loaded.consumer_key == ""
    assert decrypt_token(stored["access_token_secret"]) == loaded.access_token_secret
    # Values come back the same through values() as through instances.
    assert XAccount.objects.filter(pk=account.pk).values_list("bearer_token", flat=True).get() == (
        "AAAA-bearer-secret"
    )


@pytest.mark.django_db
def test_a_tampered_credential_fails_loudly() -> None:
    account = make_account(make_brand())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE helpdesk_xaccount SET access_token = %s WHERE id = %s",
            ["gAAAAABtampered", account.pk],
        )

    with pytest.raises(TokenDecryptionError):
        XAccount.objects.get(pk=account.pk)


def _migrate(target: str) -> Any:
    """Migrate helpdesk to ``target``; the app registry as it was there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("helpdesk", target)])
    return executor.loader.project_state([("helpdesk", target)]).apps


@pytest.fixture
def at_latest_afterwards() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_plain_rows_and_reversing_restores_them(
    at_latest_afterwards: None,
) -> None:
    old = _migrate(BEFORE)
    brand = old.get_model("helpdesk", "Brand").objects.create(name="Old", slug="old")
    plain = {
        "bearer_token": "plain-bearer",
        "consumer_key": "plain-ck",
        "consumer_secret": "plain-cs",
        "access_token": "42-plain-at",
        "access_token_secret": "",
    }
    pk = (
        old.get_model("helpdesk", "XAccount")
        .objects.create(brand=brand, username="OldCare", x_user_id="42", **plain)
        .pk
    )
    assert raw_row(pk) == plain

    _migrate(ENCRYPTING)

    stored = raw_row(pk)
    assert "plain" not in "".join(stored.values())
    assert decrypt_token(stored["bearer_token"]) == "plain-bearer"
    assert stored["access_token_secret"] == ""
    account = XAccount.objects.get(pk=pk)
    assert (account.consumer_key, account.access_token) == ("plain-ck", "42-plain-at")

    _migrate(BEFORE)

    assert raw_row(pk) == plain
