"""The brand's term lists: profanity (English and French, shipped) and competitors' names,
each with the verdict the brand chose; whole words, folded as the linter folds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from charter.admin import LinterSettingsForm
from charter.linter import LintConfig, Severity, lint
from charter.linter import profanity as shipped
from charter.linter.messages import MESSAGES, quoted
from charter.linter.rules import _profanity_list
from charter.linter.text import fold
from charter.models import LinterSettings, TermVerdict
from tests.factories import make_brand

SIG = "^AB"
CORPUS = Path(__file__).resolve().parents[2] / "helpdesk/x/sandbox/data/twitter-care-dev.json"
BRAND = LintConfig(customer_handle="ann_b", brand_handles=("NorthwindHelp",))
COMPETING = replace(BRAND, competitor_names=("Amazon", "Best Buy", "Darty", "Boulanger"))


def found(text: str, config: LintConfig = BRAND, rule: str = "profanity") -> list[str]:
    result = lint(text, config, signature=SIG)
    return [text[f.start : f.end] for f in result.findings if f.rule == rule]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@ann_b What the fuck happened? ^AB", ["fuck"]),
        ("@ann_b That is BULLSHIT, sorry. ^AB", ["BULLSHIT"]),
        ("@ann_b Shit! We will look into it. ^AB", ["Shit"]),
        ("@ann_b Don't be an asshole ^AB", ["asshole"]),
        ("@ann_b Putain, quelle merde ce retard ^AB", ["Putain", "merde"]),
        ("@ann_b Quel enculé a fait ça ? ^AB", ["enculé"]),
        ("@ann_b QUEL ENCULE ^AB", ["ENCULE"]),  # capitals lose their accents
        ("@ann_b espèce de fils  de\npute ^AB", ["fils  de\npute"]),
        ("@ann_b c'est un trou du cul ^AB", ["trou du cul"]),
        ("@ann_b Connard ! ^AB", ["Connard"]),
        ("@ann_b 🖕 ^AB", ["🖕"]),
        ("@ann_b No S&M jokes, no G-SPOT ads ^AB", ["S&M", "G-SPOT"]),
    ],
)
def test_profanity_in_english_and_french_is_found_as_whole_words(
    text: str, words: list[str]
) -> None:
    assert found(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "@ann_b Our Scunthorpe store has it in stock. ^AB",
        "@ann_b Our assistant can help; the classic bass model is back. ^AB",
        "@ann_b The cocktail shaker is in Sussex, says the therapist. ^AB",
        "@ann_b Our analysis of the Dickens box set is done. ^AB",
        "@ann_b Grab a bite while you wait: the escort mirror is here. ^AB",
        "@ann_b The XX-large nipple pack for the baby bottle is back. ^AB",
        "@ann_b La connexion au compte est rétablie, dit le député. ^AB",
        "@ann_b Le computer est en recul, la culture aussi. ^AB",
        "@ann_b Une râpe à fromage et une pédale de frein. ^AB",
        "@ann_b Vous pouvez jouir de la garantie : c'est bourré de fonctionnalités. ^AB",
        "@ann_b Consultez la documentation, c'est concis. ^AB",
    ],
)
def test_ordinary_words_in_english_and_french_are_not_profanity(text: str) -> None:
    assert found(text) == []


def test_the_quick_check_never_skips_a_draft_the_pattern_would_match() -> None:
    # Given every message of the corpus, the lists' own entries and the cases above
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    texts = [turn["message"] for dialog in corpus for turn in dialog["dialogContent"]]
    texts += [f"Well, {word.upper()}!" for word in shipped.all_words()]
    profanity = _profanity_list(())
    assert profanity is not None

    # Then wherever the pattern finds a word, the quick check let the draft through
    hits = 0
    for text in texts:
        folded = fold(text)
        if profanity.pattern.search(folded) is not None:
            hits += 1
            assert profanity.may_match(folded), text
    assert hits >= len(shipped.all_words())


def test_profanity_in_addresses_is_not_the_volunteers_words() -> None:
    assert found("@ann_b see https://northwind.com/shit-happens or @fuckthis ^AB") == []


def test_every_left_out_word_is_in_the_shipped_lists_and_the_licence_is_shipped() -> None:
    # Given the upstream files and the words the linter leaves out of them
    entries = set()
    for language in shipped.LANGUAGES:
        path = shipped.WORDLISTS / f"profanity-{language}.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[2] == "# license: CC-BY 4.0"
        entries |= {shipped._key(line) for line in lines if line and not line.startswith("#")}

    # Then each left-out word is one of theirs (none is stale), and none is kept
    assert entries >= shipped.NOT_PROFANE_HERE
    kept = {shipped._key(word) for word in shipped.all_words()}
    assert not kept & shipped.NOT_PROFANE_HERE
    assert len(shipped.words("en")) > 300 and len(shipped.words("fr")) > 60
    licence = (shipped.WORDLISTS / "LICENSE-ldnoobw").read_text(encoding="utf-8")
    assert "CC BY 4.0" in licence and "LDNOOBW" in licence


@pytest.mark.parametrize("verdict", ["block", "review", "advice"])
def test_the_brand_sets_the_profanity_verdict(verdict: str) -> None:
    config = replace(BRAND, profanity_verdict=verdict)

    result = lint("@ann_b Merde, désolé ! ^AB", config, language="fr", signature=SIG)

    (finding,) = result.findings
    assert (finding.rule, finding.severity, result.verdict) == (
        "profanity",
        Severity(verdict),
        Severity(verdict),
    )
    assert finding.message == MESSAGES["fr"]["profanity"].format(term=quoted("Merde", "fr"))


def test_a_brand_may_turn_profanity_off_or_accept_some_of_its_words() -> None:
    off = replace(BRAND, profanity_verdict="off")
    accepting = replace(BRAND, profanity_allowed=(" BOLLOCKS ", "Connard"))

    assert lint("@ann_b Shit. ^AB", off, signature=SIG).findings == ()
    assert found("@ann_b Bollocks, CONNARD and the shit ^AB", accepting) == ["shit"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@ann_b Just buy it at Amazon instead ^AB", ["Amazon"]),
        ("@ann_b It is cheaper on amazon.com ^AB", ["amazon"]),
        ("@ann_b Try BEST  BUY or Darty ^AB", ["BEST  BUY", "Darty"]),
        ("@ann_b Allez plutôt chez Darty ou chez DARTY.fr ^AB", ["Darty", "DARTY"]),
        ("@ann_b Voyez chez Boulangér ^AB", ["Boulangér"]),
    ],
)
def test_competitors_names_are_found_as_whole_words(text: str, names: list[str]) -> None:
    assert found(text, COMPETING, rule="competitor") == names


@pytest.mark.parametrize(
    "text",
    [
        "@ann_b The Amazonian rainforest edition is back. ^AB",
        "@ann_b Our best buyers get points. ^AB",
        "@ann_b Le boulangerie-café du centre commercial. ^AB",
        "@ann_b La gamme Dartymax n'existe pas. ^AB",
    ],
)
def test_words_that_only_contain_a_competitors_name_are_not_competitors(text: str) -> None:
    assert found(text, COMPETING, rule="competitor") == []


def test_the_brand_sets_the_competitor_verdict_and_the_message_says_what_to_do() -> None:
    text = "@ann_b Just buy it at Amazon instead ^AB"

    default = lint(text, COMPETING, signature=SIG)
    blocking = lint(text, replace(COMPETING, competitor_verdict="block"), signature=SIG)
    off = lint(text, replace(COMPETING, competitor_verdict="off"), signature=SIG)

    assert [(f.rule, f.severity) for f in default.findings] == [("competitor", Severity.REVIEW)]
    assert default.findings[0].message == (
        "\u201cAmazon\u201d is a competitor's name. Do not send customers to a competitor; "
        "point them to the brand's own stores, site or support instead."
    )
    assert blocking.verdict == Severity.BLOCK
    assert off.findings == ()
    assert lint(text, BRAND, signature=SIG).findings == ()  # no list, no finding


def test_the_brands_settings_feed_the_lists_and_verdicts() -> None:
    settings = LinterSettings(
        profanity_verdict=TermVerdict.REVIEW,
        profanity_allowed=["bollocks", 3],
        competitor_names=["Amazon", None, " Darty "],
        competitor_verdict=TermVerdict.BLOCK,
    )

    config = LintConfig.from_settings(settings, customer_handle="ann_b")

    assert (config.profanity_verdict, config.profanity_allowed) == ("review", ("bollocks",))
    assert (config.competitor_verdict, config.competitor_names) == ("block", ("Amazon", "Darty"))
    assert LintConfig.from_settings(None) == LintConfig()
    assert (LintConfig().profanity_verdict, LintConfig().competitor_verdict) == (
        "block",
        "review",
    )


@pytest.mark.django_db
def test_the_admin_form_refuses_a_list_that_is_not_words_and_saves_nothing() -> None:
    brand = make_brand()
    form = LinterSettingsForm(
        data={
            "brand": brand.pk,
            "profanity_verdict": "review",
            "competitor_verdict": "sideways",
            "competitor_names": '{"Amazon": 1}',
            "profanity_allowed": "[]",
            "allowed_domains": "[]",
            "order_number_patterns": '["BB(\\\\d"]',
            "extra_review_terms": "[]",
            "blocked_terms": "[]",
            "disabled_rules": "[]",
            "require_signature": "on",
        }
    )

    assert not form.is_valid()
    assert set(form.errors) == {"competitor_verdict", "competitor_names", "order_number_patterns"}
    assert LinterSettings.objects.count() == 0


@pytest.mark.django_db
def test_a_superuser_edits_the_competitor_list_and_its_verdict_in_the_admin(
    client: Client, django_user_model: Any
) -> None:
    brand = make_brand()
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)

    response = client.post(
        "/admin/charter/lintersettings/add/",
        {
            "brand": brand.pk,
            "profanity_verdict": "block",
            "profanity_allowed": '["pédale"]',
            "competitor_names": '["Amazon", "  ", "Best Buy"]',
            "competitor_verdict": "advice",
            "allowed_domains": "[]",
            "order_number_patterns": "[]",
            "extra_review_terms": "[]",
            "blocked_terms": "[]",
            "disabled_rules": "[]",
            "require_signature": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = LinterSettings.objects.get(brand=brand)
    assert (saved.competitor_names, saved.competitor_verdict) == (["Amazon", "Best Buy"], "advice")
    assert saved.profanity_allowed == ["pédale"]
    page = client.get(f"/admin/charter/lintersettings/{saved.pk}/change/")
    assert page.status_code == 200
    assert "Term lists" in page.content.decode()


@pytest.mark.django_db
def test_the_admin_names_the_linter_settings_in_english_and_french(
    client: Client, django_user_model: Any
) -> None:
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))

    english = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")

    assert ">Linter settings</a>" in english.text
    assert ">Réglages du correcteur</a>" in french.text
