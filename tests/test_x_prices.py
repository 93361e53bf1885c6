"""The X price table comes from the environment and fails loudly on a bad value."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import X_DEFAULT_PRICES, env_prices


def test_without_a_setting_the_table_is_xs_published_prices() -> None:
    assert env_prices("X_PRICES", environ={}) == {
        "owned_read": Decimal("0.001"),
        "post_read": Decimal("0.005"),
        "post_create": Decimal("0.015"),
        "post_create_url": Decimal("0.20"),
        "post_delete": Decimal("0.010"),
    }


def test_a_setting_overrides_the_prices_it_names_and_keeps_the_others() -> None:
    prices = env_prices("X_PRICES", environ={"X_PRICES": '{"post_read": 0.006, "owned_read": "0"}'})

    assert prices == {
        **X_DEFAULT_PRICES,
        "post_read": Decimal("0.006"),
        "owned_read": Decimal("0"),
    }


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("0.005", "JSON object of category"),
        ("{not json", "must be a JSON object"),
        ('["post_read"]', "JSON object of category"),
        ('{"post_reads": 0.005}', "unknown category 'post_reads'"),
        ('{"post_read": -0.005}', "must be a number of dollars >= 0"),
        ('{"post_read": "five"}', "must be a number of dollars >= 0"),
        ('{"post_read": true}', "must be a number of dollars >= 0"),
        ('{"post_read": null}', "must be a number of dollars >= 0"),
        ('{"post_read": "NaN"}', "must be a number of dollars >= 0"),
        ('{"post_read": "Infinity"}', "must be a number of dollars >= 0"),
        ('{"post_read": 0.0000001}', "more than six decimals"),
    ],
)
def test_a_bad_price_table_is_refused_at_start_up(raw: str, says: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=says):
        env_prices("X_PRICES", environ={"X_PRICES": raw})
