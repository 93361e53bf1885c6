"""Negative sentiment: clear cases in English and French, the labelled set's shape, and the
verdict carried from classification to the stored question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpdesk.models import Question, Source
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from routing.classify import classify, sentiment_of
from routing.classify.rules import CompiledRules

LABELLED = Path(__file__).resolve().parent.parent / "data" / "sentiment_labelled.jsonl"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("@BrandCare Terrible customer support, this is ridiculous", "en"),
        ("@BrandCare third time my order is late. Very frustrating!!", "en"),
        ("@BrandCare FIX. THE. APP. IMMEDIATELY.", "en"),
        ("@BrandCare the app crashes all the fucking time", "en"),
        ("@BrandCare still no refund :(", "en"),
        # a number VADER's slang reads as love ("143") says nothing of the mood
        ("@BrandCare charged twice, order still not confirmed. What a joke #143", "en"),
        ("@BrandCare Merci pour rien 😡", "fr"),
        ("@BrandCare Super déçue du service client…", "fr"),
        ("@BrandCare 40 minutes d'attente au téléphone. C'est une blague ?", "fr"),
        ("@BrandCare c'est inadmissible, j'en ai marre", "fr"),
    ],
)
def test_an_unhappy_customer_reads_negative(text: str, language: str) -> None:
    assert sentiment_of(text, language).negative is True


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("@BrandCare how do I reset my password? Thanks!", "en"),
        ("@BrandCare my installer is stuck at 3% with error 1006, how to fix it?", "en"),
        ("@BrandCare I lost my phone, can I move my 2-step verification?", "en"),
        ("@BrandCare Great service in the Lyon store today, thank you", "en"),
        ("@BrandCare Bonjour, est-ce que le retrait en magasin est gratuit ?", "fr"),
        ("@BrandCare ma commande n'est pas arrivée, vous pouvez vérifier svp ?", "fr"),
        ("@BrandCare Merci à l'équipe, super accueil 👍", "fr"),
    ],
)
def test_a_plain_question_or_a_problem_reported_calmly_is_not_negative(
    text: str, language: str
) -> None:
    assert sentiment_of(text, language).negative is False


def test_the_score_is_on_vader_scale_and_names_its_cues() -> None:
    result = sentiment_of("@BrandCare c'est scandaleux 😡", "fr")

    assert result.score == -1.0
    assert result.cues == ("scandaleux", "😡")


def test_the_labelled_set_has_200_rows_in_english_and_french() -> None:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]

    assert len(rows) >= 200
    assert {row["lang"] for row in rows} == {"en", "fr"}
    assert len({row["id"] for row in rows}) == len(rows)
    assert {row["part"] for row in rows} == {"tuning", "held-out"}
    for lang in ("en", "fr"):
        labels = {row["negative"] for row in rows if row["lang"] == lang}
        assert labels == {True, False}
    assert all(isinstance(row["text"], str) and row["text"] for row in rows)


def test_classification_carries_the_verdict() -> None:
    none = CompiledRules(brand_id=0, version="")

    angry = classify("@BrandCare worst service ever, unacceptable", compiled=none)
    calm = classify("@BrandCare when does the Lyon store open?", compiled=none)

    assert (angry.negative, "negative" in angry.signals) == (True, True)
    assert angry.sentiment < 0
    assert (calm.negative, "negative" in calm.signals) == (False, False)


@pytest.mark.django_db
def test_an_ingested_question_is_stored_with_its_verdict(brand: Any) -> None:
    # Given two mentions, one angry and one calm
    tweets = [
        {
            "id": str(1_900_000_000_000_000_000 + n),
            "text": text,
            "edit_history_tweet_ids": [str(1_900_000_000_000_000_000 + n)],
            "author_id": str(7000 + n),
            "created_at": "2026-11-20T10:00:00.000Z",
            "lang": "en",
        }
        for n, text in enumerate(
            ["@CareDesk this is a joke, 3 weeks and still nothing!!", "@CareDesk is my order sent?"]
        )
    ]

    # When they are ingested
    ingest_batch(brand, parse_v2_response({"data": tweets}), source=Source.MENTIONS)

    # Then each question says whether it reads negative
    stored = dict(Question.objects.values_list("text", "is_negative"))
    assert stored == {tweets[0]["text"]: True, tweets[1]["text"]: False}
