"""The draft linter: a table of English and French drafts with their expected verdict, rules
and spans; X's length counting; messages; configuration; and the corpus's real replies."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pytest
from twitter_text import parse_tweet

from charter.linter import (
    RULES,
    Finding,
    LintConfig,
    LintResult,
    Severity,
    lint,
    pattern_errors,
)
from charter.linter.messages import MESSAGES
from charter.linter.text import measure
from charter.models import LinterSettings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "helpdesk/x/sandbox/data/twitter-care-dev.json"

BRAND = LintConfig(
    allowed_domains=("northwind.com",),
    brand_handles=("NorthwindHelp",),
    customer_handle="ann_b",
)
OPEN = LintConfig()  # no allowed domains (links unrestricted), customer unknown
HASHTAG = replace(BRAND, disclosure_hashtag="#NorthwindHelp")
PATTERNS = replace(
    BRAND,
    order_number_patterns=(r"BB\d{8}",),
    blocked_terms=("stupid", "mot de passe"),
    extra_review_terms=("warranty claim", "garantie"),
)
SIG = "^AB"


@dataclass(frozen=True)
class Case:
    text: str
    verdict: str
    rules: frozenset[str]
    config: LintConfig = BRAND
    language: str = "en"
    signature: str = SIG
    # (rule, the exact text it should point at); "" means the empty span at the end.
    at: tuple[tuple[str, str], ...] = ()
    length: int | None = None


def case(text: str, verdict: str, *rules: str, **options: object) -> Case:
    return Case(text, verdict, frozenset(rules), **options)  # type: ignore[arg-type]


CASES = [
    # --- English: fine, or advice only ---------------------------------------------------
    case("@ann_b Sorry to hear that! Could you DM us the details so we can look? ^AB", "ok"),
    case(
        "@ann_b Sorry to hear that! Could you DM us the details?",
        "advice",
        "missing_signature",
        at=(("missing_signature", ""),),
    ),
    case("@ann_b Thanks for waiting, we're looking into it now. ^ab", "ok"),
    case("@ann_b Delivery usually takes about 3 to 5 business days. ^AB", "ok"),
    case(
        "@ann_b Delivery takes 3 to 5 business days. ^AB",
        "advice",
        "unqualified_claim",
        at=(("unqualified_claim", "Delivery takes 3 to 5 business days."),),
    ),
    case("@ann_b The update will fix it. ^AB", "advice", "unqualified_claim"),
    case("@ann_b We will look into it for you. ^AB", "ok"),
    case("@ann_b Is your PS4 on the latest firmware? ^AB", "ok"),
    case("@ann_b Feel free to DM us, we're happy to help. ^AB", "ok"),
    case(
        "@ann_b Our returns guide: https://help.northwind.com/returns ^AB",
        "advice",
        "link_cost",
        at=(("link_cost", "https://help.northwind.com/returns"),),
    ),
    case("@ann_b See www.northwind.com/returns for the steps ^AB", "advice", "link_cost"),
    case("@ann_b Try https://bit.ly/3abc ^AB", "advice", "link_cost", config=OPEN),
    case("@ann_b Thanks! #NorthwindHelp ^AB", "ok", config=HASHTAG),
    case("@ann_b Thanks! #northwindhelp ^AB", "ok", config=HASHTAG),
    case("@ann_b Thanks! ^AB", "advice", "missing_disclosure", config=HASHTAG),
    case("@ann_b Thanks! #NorthwindHelpers ^AB", "advice", "missing_disclosure", config=HASHTAG),
    case(
        "@ann_b You can usually reach the store team at 1-800-555-0199. ^AB",
        "ok",  # a toll-free line is the company's, not personal data
    ),
    case("@ann_b Is 4111 1111 1111 1112 the reference on your receipt? ^AB", "ok"),
    case("@ann_b Please ask @NorthwindHelp for a callback. ^AB", "ok"),
    # --- English: personal data and other blocks ------------------------------------------
    case(
        "@ann_b Please write to jane.doe@gmail.com and we'll check. ^AB",
        "block",
        "email_address",
        at=(("email_address", "jane.doe@gmail.com"),),
    ),
    case("@ann_b Our team reads help@northwind.com daily, usually. ^AB", "ok"),
    case(
        "@ann_b Is (415) 555-2671 the best number to reach you? ^AB",
        "block",
        "phone_number",
        at=(("phone_number", "(415) 555-2671"),),
    ),
    case("@ann_b Call +44 20 7946 0958 when you can? ^AB", "block", "phone_number"),
    case(
        "@ann_b Is 07911 123456 your mobile? ^AB",
        "block",
        "phone_number",
        at=(("phone_number", "07911 123456"),),
    ),
    case(
        "@ann_b Your card 4111 1111 1111 1111 is on file? ^AB",
        "block",
        "card_number",
        at=(("card_number", "4111 1111 1111 1111"),),
    ),
    case("@ann_b Is it 5500-0000-0000-0004? ^AB", "block", "card_number"),
    case("@ann_b Amex 3782 822463 10005 right? ^AB", "block", "card_number"),
    case(
        "@ann_b Your order #123456 has shipped, usually. ^AB",
        "block",
        "order_number",
        at=(("order_number", "123456"),),
    ),
    case("@ann_b Is account number 12-345-678 yours? ^AB", "block", "order_number"),
    case(
        "@ann_b Is BB12345678 your order? ^AB",
        "block",
        "order_number",
        config=PATTERNS,
        at=(("order_number", "BB12345678"),),
    ),
    case("@ann_b That was a stupid update, sorry. ^AB", "block", "blocked_term", config=PATTERNS),
    case(
        "@ann_b Try https://bit.ly/3abc ^AB",
        "block",
        "link_domain",
        "link_cost",
        at=(("link_domain", "https://bit.ly/3abc"),),
    ),
    case("@ann_b Try northwind.com.evil.com/x ^AB", "block", "link_domain", "link_cost"),
    case("@ann_b Sorry about that.\ufeff ^AB", "block", "invalid_character"),
    # --- English: review -----------------------------------------------------------------
    case(
        "@ann_b We can refund the difference. ^AB",
        "review",
        "promise",
        at=(("promise", "refund"),),
    ),
    case("@ann_b Repairs are free of charge, usually. ^AB", "review", "promise"),
    case("@ann_b Would store credit work for you? ^AB", "review", "promise"),
    case("@ann_b Which credit card did you use? ^AB", "ok"),
    case(
        "@ann_b It's $12.99 today. ^AB",
        "review",
        "price",
        "unqualified_claim",
        at=(("price", "$12.99"), ("unqualified_claim", "It's $12.99 today.")),
    ),
    case("@ann_b Would 20% off help? ^AB", "review", "price", at=(("price", "20% off"),)),
    case("@ann_b Is the battery at 20% when it stops? ^AB", "ok"),
    case("@ann_b Would a discount code help? ^AB", "review", "price"),
    case("@ann_b Please talk to a lawyer if needed. ^AB", "review", "legal_safety"),
    case("@ann_b Did the charger catch fire? ^AB", "review", "legal_safety"),
    case("@ann_b Is it part of the recall? ^AB", "review", "legal_safety"),
    case(
        "@ann_b Is @bob_c with you? ^AB",
        "review",
        "other_customer",
        at=(("other_customer", "@bob_c"),),
    ),
    case("@ann_b Did another customer send you this? ^AB", "review", "other_customer"),
    case("@ann_b @bob_c Could you both DM us? ^AB", "review", "other_customer"),
    case("@ann_b @bob_c Could you both DM us? ^AB", "ok", config=OPEN),
    case("@joe_c Here to help, @joe_c. ^AB", "ok", config=OPEN),
    case("@ann_b Thanks for waiting! ^AB 2/2", "ok"),
    case("@ann_b Is this a Warranty  Claim? ^AB", "review", "review_term", config=PATTERNS),
    # --- French --------------------------------------------------------------------------
    case("@ann_b Bonjour, pouvez-vous nous écrire en message privé ? ^AB", "ok", language="fr"),
    case(
        "@ann_b Votre remboursement sera effectué sous 5 jours. ^AB",
        "review",
        "promise",
        "unqualified_claim",
        language="fr",
        at=(
            ("promise", "remboursement"),
            ("unqualified_claim", "Votre remboursement sera effectué sous 5 jours."),
        ),
    ),
    case("@ann_b Le délai est normalement de 3 jours. ^AB", "ok", language="fr"),
    case("@ann_b Il sera livré demain. ^AB", "advice", "unqualified_claim", language="fr"),
    case("@ann_b Appelez-moi au 06 12 34 56 78 svp ^AB", "block", "phone_number", language="fr"),
    case("@ann_b C'est bien le +33 1 23 45 67 89 ? ^AB", "block", "phone_number", language="fr"),
    case(
        "@ann_b Le prix est de 12,99\u00a0€. ^AB",
        "review",
        "price",
        "unqualified_claim",
        language="fr",
        at=(("price", "12,99\u00a0€"),),
    ),
    case("@ann_b -20 % sur tout le rayon ! ^AB", "review", "price", language="fr"),
    case("@ann_b Nous pouvons faire un geste commercial. ^AB", "review", "promise", language="fr"),
    case("@ann_b Vous aurez droit à un avoir ? ^AB", "review", "promise", language="fr"),
    case("@ann_b ÉCHANGE possible en magasin ? ^AB", "review", "promise", language="fr"),
    case("@ann_b Un echange est possible ? ^AB", "review", "promise", language="fr"),
    case(
        "@ann_b Un autre client a eu le même souci ? ^AB",
        "review",
        "other_customer",
        language="fr",
        at=(("other_customer", "Un autre client"),),
    ),
    case("@ann_b Contactez un avocat si besoin. ^AB", "review", "legal_safety", language="fr"),
    case(
        "@ann_b Votre commande n°48213 est partie. ^AB",
        "block",
        "order_number",
        language="fr",
        at=(("order_number", "48213"),),
    ),
    case(
        "@ann_b Écrivez à marie.dupont@orange.fr svp ^AB", "block", "email_address", language="fr"
    ),
    case("@ann_b Merci ! ^AB", "advice", "missing_disclosure", config=HASHTAG, language="fr"),
    case("@ann_b La garantie couvre ça ? ^AB", "review", "review_term", config=PATTERNS),
    case(
        "@ann_b Ne donnez jamais votre mot de passe. ^AB", "block", "blocked_term", config=PATTERNS
    ),
    # --- Several findings at once --------------------------------------------------------
    case(
        "@ann_b We'll refund you: call 415-555-2671 or mail ann@gmail.com, see https://bit.ly/x",
        "block",
        "promise",
        "phone_number",
        "email_address",
        "link_domain",
        "link_cost",
        "missing_signature",
        at=(
            ("promise", "refund"),
            ("phone_number", "415-555-2671"),
            ("email_address", "ann@gmail.com"),
            ("link_domain", "https://bit.ly/x"),
            ("missing_signature", ""),
        ),
    ),
    case(
        "@ann_b Remboursement de 49,90 € sous 3 jours, appelez le 06 12 34 56 78 ou @marc_d",
        "block",
        "promise",
        "price",
        "phone_number",
        "other_customer",
        "unqualified_claim",
        "missing_signature",
        language="fr",
    ),
    case(
        "@ann_b A lawyer said the recall gives 50% off? ^AB",
        "review",
        "legal_safety",
        "price",
    ),
    # --- Length as X counts it -----------------------------------------------------------
    case("一" * 140, "ok", signature="", length=280),
    case("一" * 141, "block", "over_length", signature="", length=282, at=(("over_length", "一"),)),
    case("😀" * 140, "ok", signature="", length=280),
    case("😀" * 141, "block", "over_length", signature="", length=282),
    case("👍🏽" * 140, "ok", signature="", length=280),  # a skin tone is part of the emoji
    case("Hi 👨\u200d👩\u200d👧 ^AB", "ok", length=9),  # one ZWJ family counts 2
    case("a" * 280, "ok", signature="", length=280),
    case("a" * 281, "block", "over_length", signature="", length=281, at=(("over_length", "a"),)),
    case(
        "Guide: https://northwind.com/" + "x" * 300,
        "advice",
        "link_cost",
        signature="",
        length=7 + 23,  # a URL counts 23 whatever its length
    ),
    case(
        "a" * 257 + " https://northwind.com/returns",
        "block",
        "over_length",
        "link_cost",
        signature="",
        length=281,
        at=(("over_length", "https://northwind.com/returns"),),
    ),
    case("e\u0301" * 280, "ok", signature="", length=280),  # NFC makes each pair one é
    case("Café ☕ 日本 ^AB", "ok", length=16),
]


def expected_span(text: str, fragment: str) -> tuple[int, int]:
    if fragment == "":
        return len(text), len(text)
    start = text.rindex(fragment) if fragment in {"一", "a"} else text.index(fragment)
    return start, start + len(fragment)


def test_the_table_is_big_enough() -> None:
    languages = Counter(c.language for c in CASES)
    assert len(CASES) >= 60
    assert languages["fr"] >= 15


@pytest.mark.parametrize("draft", CASES, ids=[c.text[:40] for c in CASES])
def test_draft(draft: Case) -> None:
    result = lint(draft.text, draft.config, language=draft.language, signature=draft.signature)

    assert (result.verdict.value, result.rules) == (draft.verdict, draft.rules)
    for rule, fragment in draft.at:
        spans = {(f.start, f.end) for f in result.findings if f.rule == rule}
        assert expected_span(draft.text, fragment) in spans, (rule, fragment, spans)
    if draft.length is not None:
        assert result.weighted_length == draft.length
    assert result.weighted_length == parse_tweet(draft.text).weightedLength
    assert_well_formed(result)


def assert_well_formed(result: LintResult) -> None:
    text = result.text
    assert result.findings == tuple(sorted(result.findings, key=lambda f: f.start))
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text)
        assert finding.rule in RULES
        assert finding.severity == RULES[finding.rule].severity
        assert finding.message
    assert result.verdict == max((f.severity for f in result.findings), default=Severity.OK)
    json.dumps(result.as_json(), ensure_ascii=False)


def test_the_over_length_span_starts_where_parse_tweet_says_the_text_stops_fitting() -> None:
    for text in [
        "a" * 300,
        "一" * 150,
        "😀" * 150,
        "Bonjour " * 40,
        "x" * 270 + " ok 😀😀😀😀😀😀",
    ]:
        result = lint(text, OPEN)
        (finding,) = [f for f in result.findings if f.rule == "over_length"]
        valid_utf16_units = parse_tweet(text).validRangeEnd + 1
        assert len(text[: finding.start].encode("utf-16-le")) // 2 == valid_utf16_units
        assert finding.end == len(text)


def test_messages_are_in_the_volunteers_language() -> None:
    text = "@ann_b Appelez le 06 12 34 56 78 pour un remboursement"

    french = lint(text, BRAND, language="fr", signature=SIG)
    canadian = lint(text, BRAND, language="fr-CA", signature=SIG)
    english = lint(text, BRAND, language="en", signature=SIG)
    other = lint(text, BRAND, language="de", signature=SIG)

    by_rule = {f.rule: f.message for f in french.findings}
    assert by_rule["phone_number"] == MESSAGES["fr"]["phone_number"]
    assert by_rule["promise"].startswith("«\u00a0remboursement\u00a0» ressemble à une promesse")
    assert by_rule["missing_signature"] == (
        "Signez votre réponse avec ^AB pour que le client sache qui lui a répondu."
    )
    assert canadian.findings == french.findings
    assert {f.rule: f.message for f in english.findings}["phone_number"] == (
        "This looks like a phone number. Never post a customer's or a colleague's phone "
        "number; ask them to send it by direct message."
    )
    assert other.findings == english.findings


def test_every_rule_has_a_message_and_a_description_in_both_languages() -> None:
    assert set(MESSAGES["en"]) == set(RULES) == set(MESSAGES["fr"])
    for info in RULES.values():
        assert info.description("en") and info.description("fr")
        assert info.description("fr") != info.description("en")
    severities = Counter(info.severity for info in RULES.values())
    assert severities == {Severity.BLOCK: 10, Severity.REVIEW: 6, Severity.ADVICE: 4}


@pytest.mark.parametrize(
    "text",
    [
        "@ann_b ^AB",
        "@ann_b",
        "",
        "  @ann_b   ^ab  ",
        "@ann_b @NorthwindHelp ^AB #NorthwindHelp",
        "@ann_b ... !!! ^AB",
        "@ann_b https://northwind.com/returns ^AB",
        "@ann_b \u200b\u2060 ^AB",
    ],
    ids=[
        "handle-and-signature",
        "bare-handle",
        "nothing",
        "spaces-and-lower-case-signature",
        "mentions-signature-hashtag",
        "punctuation",
        "a-bare-link",
        "invisible-characters",
    ],
)
def test_a_reply_with_no_words_of_its_own_is_blocked(text: str) -> None:
    # Given a draft with nothing but mentions, the signature, hashtags, links or punctuation
    # When it is linted, in English and in French
    english = lint(text, HASHTAG, signature=SIG)
    french = lint(text, HASHTAG, language="fr", signature=SIG)

    # Then it is blocked, with the empty span at the end and a message saying what to do
    for result in (english, french):
        assert result.verdict == Severity.BLOCK
        (finding,) = [f for f in result.findings if f.rule == "no_words"]
        assert (finding.severity, finding.start, finding.end) == (
            Severity.BLOCK,
            len(text),
            len(text),
        )
        assert_well_formed(result)
    assert [f.message for f in english.findings if f.rule == "no_words"] == [
        "This reply has no words of its own: only mentions, your signature, hashtags or "
        "links. Write the answer itself before sending it."
    ]
    assert [f.message for f in french.findings if f.rule == "no_words"] == [
        "Cette réponse ne contient aucun mot à elle : seulement des mentions, votre "
        "signature, des hashtags ou des liens. Écrivez la réponse elle-même avant de "
        "l'envoyer."
    ]


@pytest.mark.parametrize(
    "text",
    ["@ann_b Yes ^AB", "@ann_b Oui ! ^AB", "@ann_b 42 ^AB", "@ann_b 👍 ^AB", "@ann_b はい ^AB"],
)
def test_a_short_reply_with_words_of_its_own_is_not_blocked(text: str) -> None:
    assert "no_words" not in lint(text, BRAND, signature=SIG).rules
    assert "no_words" not in lint(text, BRAND, language="fr", signature=SIG).rules


def test_a_brand_cannot_turn_off_the_no_words_rule() -> None:
    config = replace(BRAND, disabled_rules=frozenset({"no_words"}))

    assert lint("@ann_b ^AB", config, signature=SIG).rules == {"no_words"}


def test_disabled_rules_do_not_run() -> None:
    text = "@ann_b Call 06 12 34 56 78 or see https://help.northwind.com ^AB"
    quiet = replace(BRAND, disabled_rules=frozenset({"phone_number", "link_cost"}))

    assert lint(text, BRAND, signature=SIG).rules == {"phone_number", "link_cost"}
    result = lint(text, quiet, signature=SIG)
    assert (result.verdict, result.findings) == (Severity.OK, ())


def test_without_a_signature_given_the_signature_is_not_checked() -> None:
    assert lint("@ann_b Thanks for waiting!", BRAND).verdict == Severity.OK
    relaxed = replace(BRAND, require_signature=False)
    assert lint("@ann_b Thanks for waiting!", relaxed, signature=SIG).verdict == Severity.OK


def test_allowed_domains_cover_subdomains_only() -> None:
    config = LintConfig(allowed_domains=("https://www.Northwind.com/", "*.help.net"))
    for allowed in ["https://northwind.com", "https://www.northwind.com/a", "kb.help.net"]:
        assert "link_domain" not in lint(f"See {allowed}", config).rules, allowed
    for outside in ["https://northwind.com.evil.com", "https://evilnorthwind.com"]:
        assert "link_domain" in lint(f"See {outside}", config).rules, outside


def test_severities_are_ordered_by_gravity_not_alphabet() -> None:
    assert Severity.OK < Severity.ADVICE < Severity.REVIEW < Severity.BLOCK
    assert max(Severity.REVIEW, Severity.ADVICE) == Severity.REVIEW
    assert Severity.BLOCK >= "review"
    with pytest.raises(TypeError):
        assert Severity.OK < "fine"


def test_as_json_is_the_commands_shape() -> None:
    text = "@ann_b Try https://bit.ly/x ^AB"

    result = lint(text, BRAND, signature=SIG)

    assert result.as_json() == {
        "text": text,
        "verdict": "block",
        "weighted_length": 38,
        "findings": [
            {
                "rule": "link_domain",
                "severity": "block",
                "start": 11,
                "end": 27,
                "message": "This link goes to bit.ly, which is not one of the brand's sites "
                "(northwind.com). Link to the brand's own page instead.",
            },
            {
                "rule": "link_cost",
                "severity": "advice",
                "start": 11,
                "end": 27,
                "message": MESSAGES["en"]["link_cost"],
            },
        ],
    }
    assert isinstance(result.findings[0], Finding)


def test_config_from_settings_keeps_only_strings() -> None:
    settings = LinterSettings(
        allowed_domains=["northwind.com", 42, ""],
        disclosure_hashtag=" #NorthwindHelp ",
        require_signature=False,
        order_number_patterns=[r"BB\d{8}"],
        extra_review_terms="not a list",
        blocked_terms=["idiot", None],
        disabled_rules=["link_cost"],
    )

    config = LintConfig.from_settings(settings, brand_handles=["NorthwindHelp"])

    assert config == LintConfig(
        allowed_domains=("northwind.com",),
        disclosure_hashtag="#NorthwindHelp",
        require_signature=False,
        order_number_patterns=(r"BB\d{8}",),
        blocked_terms=("idiot",),
        disabled_rules=frozenset({"link_cost"}),
        brand_handles=("NorthwindHelp",),
    )
    assert LintConfig.from_settings(None, customer_handle="ann_b") == LintConfig(
        customer_handle="ann_b"
    )


def test_an_invalid_order_pattern_matches_as_literal_text() -> None:
    config = replace(OPEN, order_number_patterns=("REF(",))

    assert pattern_errors(["REF(", r"BB\d+"]) == [
        "'REF(' is not a valid regular expression: missing ), unterminated subpattern at position 3"
    ]
    assert lint("Is REF( on the box?", config).rules == {"order_number"}
    assert lint("Is REF on the box?", config).rules == frozenset()


@cache
def corpus_agent_replies() -> dict[str, tuple[str, str]]:
    """Every brand reply in the corpus, by tweet id: (brand handle, text)."""
    replies: dict[str, tuple[str, str]] = {}
    for dialog in json.loads(CORPUS.read_text(encoding="utf-8")):
        company = dialog["dialogHeader"]["company"]
        for turn in dialog["dialogContent"]:
            if "agent" in turn:
                replies[turn["tweet_ID"]] = (company, turn["message"])
        linked = dialog.get("agentURL")
        if linked:
            replies.setdefault(linked["tweet_ID"], (company, linked["url_utterance"]))
    return replies


def test_the_corpus_agent_replies_all_lint_to_well_formed_results() -> None:
    replies = corpus_agent_replies()
    verdicts: Counter[str] = Counter()

    for company, text in replies.values():
        result = lint(text, LintConfig(brand_handles=(company,)))
        assert_well_formed(result)
        assert result.weighted_length == measure(text).weighted_length
        verdicts[result.verdict.value] += 1

    # The distribution is a figure to report (docs/benchmarks.md), not a target.
    assert len(replies) > 500
    assert sum(verdicts.values()) == len(replies)


def test_the_weighted_length_is_parse_tweets_on_every_corpus_reply() -> None:
    for _, text in corpus_agent_replies().values():
        assert measure(text).weighted_length == parse_tweet(text).weightedLength


def test_the_linter_needs_neither_the_desk_nor_django() -> None:
    probe = (
        "import sys, charter.linter\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'helpdesk', 'routing', 'django'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "[]"
