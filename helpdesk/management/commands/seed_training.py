"""``manage.py seed_training [--brand SLUG]``: a default training set for brands without one.

Idempotent: a brand that has any training module is left alone, so a second run (or an
admin's own modules) is never overwritten. Each default set has three required modules
with a bank of quiz questions; an attempt draws five, the pass mark is 80% and a failed
attempt waits 60 minutes before a retake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from charter import events
from charter.models import QuestionKind, QuizQuestion, TrainingModule
from helpdesk.models import Brand

PASS_MARK_PERCENT = 80
QUESTIONS_PER_ATTEMPT = 5
RETAKE_COOLDOWN_MINUTES = 60


@dataclass(frozen=True)
class Q:
    prompt: str
    choices: tuple[str, ...]
    correct: tuple[int, ...]
    explanation: str

    @property
    def kind(self) -> str:
        return QuestionKind.SINGLE if len(self.correct) == 1 else QuestionKind.MULTIPLE


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    title: str
    content: str
    video_url: str
    questions: tuple[Q, ...]


CHARTER = ModuleSpec(
    slug="usage-charter",
    title="The usage charter",
    video_url="https://example.com/training/usage-charter",
    content="""\
Everything you post on the brand's care account is the brand speaking in public. The
usage charter is the short list of rules that keeps those replies honest, safe and
useful. You accepted it when you enrolled; this module explains the why behind each rule.

## Say who you are

Every reply is **signed** with your signature (for example `^AB`) and, where the brand
uses one, its disclosure hashtag. Customers have a right to know they are talking to a
store employee answering on the brand's behalf, not to an automated account or to a
stranger. Never pretend to be a customer, and never answer the brand's questions from a
personal account unless your programme allows linked accounts.

## Use qualifiers, don't promise

You can see what the systems show, not what will happen. Say *"usually"*, *"should"*,
*"according to the tracking"*: "Orders like this usually ship within 2 days."
Never promise a delivery date, a refund, a replacement or an exception to a policy.
A draft with a promise goes to a supervisor's review.

## No personal data in public

Never ask a customer to post, and never repeat, an e-mail address, a phone number, a
home address, a card number or any account detail. If the customer already posted one,
don't quote it back: ask them to delete the tweet and to continue by direct message.

## Link to prices, don't quote them

Prices, offers and stock change by the hour and differ by store. Link to the product
page on the brand's site rather than writing a price in the reply. A reply that quotes
a price goes to review.

## Order numbers go to DM

To look into an order we need its number. Ask for it **by direct message (DM)**, never
in the public thread, and say what you will do with it.

## When in doubt

Hand the question back or ask a supervisor. A late good answer beats a fast wrong one.
""",
    questions=(
        Q(
            "A customer asks where their order is. What do you ask for, and where?",
            (
                "The order number, in a public reply",
                "The order number, by direct message",
                "Their home address, by direct message",
                "Nothing: tell them to call the store",
            ),
            (1,),
            "Order numbers are personal data in public: ask for them by DM.",
        ),
        Q(
            "Which of these belong in every reply you post? Choose all that apply.",
            (
                "Your signature, e.g. ^AB",
                "The brand's disclosure hashtag, where the brand uses one",
                "Your store's phone number",
                "Your personal X handle",
            ),
            (0, 1),
            "Disclosure: sign every reply and use the disclosure hashtag where there is one.",
        ),
        Q(
            "A customer asks how much a TV costs. What is the best reply?",
            (
                "Quote today's price from the shelf label",
                "Link to the product page, where the current price is shown",
                "Say the price will drop next week",
                "Ask them to DM you their budget",
            ),
            (1,),
            "Prices change and differ by store: link rather than quote.",
        ),
        Q(
            "Which phrasing follows the charter's rule on qualifiers?",
            (
                "Your parcel will arrive tomorrow.",
                "We guarantee a refund within 3 days.",
                "According to the tracking, it should arrive tomorrow.",
                "I promise it ships today.",
            ),
            (2,),
            "Use qualifiers; never promise dates, refunds or exceptions.",
        ),
        Q(
            "A customer posted their e-mail address in a public tweet to the brand. "
            "What do you do? Choose all that apply.",
            (
                "Quote it back so they can check it is right",
                "Ask them to delete the tweet",
                "Continue the conversation by direct message",
                "Ignore it and answer the question in public with their address",
            ),
            (1, 2),
            "Never repeat personal data; ask them to delete it and move to DM.",
        ),
        Q(
            "Which of these drafts will go to a supervisor's review before posting? "
            "Choose all that apply.",
            (
                "One that promises a refund",
                "One that quotes a price",
                "One that thanks the customer for their patience",
                "One that links to the returns policy page",
            ),
            (0, 1),
            "Promises and prices force a review.",
        ),
        Q(
            "May you answer customers for the brand from your personal X account?",
            (
                "Yes, always, it is faster",
                "Only if your programme allows linked accounts",
                "Yes, if you don't sign the reply",
                "Only on weekends",
            ),
            (1,),
            "By default replies go out from the brand's care account, signed by you.",
        ),
        Q(
            "You are not sure of the answer. What does the charter say?",
            (
                "Guess: a fast answer is better than none",
                "Hand the question back or ask a supervisor",
                "Reply that it is not your job",
                "Copy an answer from another brand",
            ),
            (1,),
            "A late good answer beats a fast wrong one.",
        ),
        Q(
            "Which of these are personal data you must never ask for in public? "
            "Choose all that apply.",
            (
                "A phone number",
                "A home address",
                "The product model they bought",
                "A card number",
            ),
            (0, 1, 3),
            "Contact details and payment details never go in a public reply.",
        ),
    ),
)

ANSWERING = ModuleSpec(
    slug="answering-on-x",
    title="Answering on X",
    video_url="https://example.com/training/answering-on-x",
    content="""\
A good reply on X is short, friendly, correct and in the right place. This module covers
the craft.

## Tone

Write like a helpful person in the store, not like a legal notice. Greet the customer by
their handle (the reply starts with `@handle`), thank them once, and get to the point.
Stay calm with angry customers: acknowledge the problem ("That's frustrating, sorry"),
never argue, never blame a colleague, a carrier or the customer, and never use sarcasm.

## Length

A reply has **280 weighted characters**. A link always counts as 23, whatever its length;
emoji and CJK characters count as 2. The composer counts for you as X does. If the
answer does not fit, link to the help page rather than splitting it across many tweets.

## Threads

Always reply **in the customer's thread**, to their latest tweet, so they get the
notification and others can follow. One reply per question: don't post several partial
answers. When the customer follows up, the conversation usually comes back to you while
you are on shift; read the whole thread and the customer's history before answering.

## When to escalate

Escalate to the official care team, with the context, rather than answering yourself when:

- the customer mentions a **safety** issue (a burning battery, an electric shock, an injury);
- there is a **legal** threat, a journalist, or a complaint that is going viral;
- the problem needs access you don't have (refund decisions, account security, fraud);
- you have already answered twice and the customer is still stuck.

Escalating is not failing: it is getting the customer to the person who can fix it.
""",
    questions=(
        Q(
            "How many characters does a link count for in a reply on X?",
            ("Its real length", "23", "0", "140"),
            (1,),
            "X counts every URL as 23 weighted characters.",
        ),
        Q(
            "Where should your reply go?",
            (
                "A new tweet that mentions the customer",
                "In the customer's thread, replying to their latest tweet",
                "A direct message, always",
                "A quote tweet",
            ),
            (1,),
            "Reply in the thread so the customer is notified and the context stays together.",
        ),
        Q(
            "Which situations should you escalate to the official care team? "
            "Choose all that apply.",
            (
                "A customer says their laptop battery caught fire",
                "A customer threatens legal action",
                "A customer asks for the store's opening hours",
                "A journalist asks for a comment",
            ),
            (0, 1, 3),
            "Safety, legal and press questions go to the official care team.",
        ),
        Q(
            "An angry customer insults the brand. What is the right tone?",
            (
                "Answer in the same tone so they take you seriously",
                "Acknowledge the problem calmly and offer the next step",
                "Ignore the question",
                "Explain it is the carrier's fault",
            ),
            (1,),
            "Stay calm, acknowledge, never argue or blame.",
        ),
        Q(
            "Your answer is too long for one reply. What do you do?",
            (
                "Split it into five tweets",
                "Remove the signature to make room",
                "Link to the help page and keep the reply short",
                "Post a screenshot of the text",
            ),
            (2,),
            "Keep one reply; a link carries the details.",
        ),
        Q(
            "Which count as 2 weighted characters? Choose all that apply.",
            ("An emoji", "A Chinese character", "A Latin letter", "A space"),
            (0, 1),
            "Emoji and CJK characters weigh 2; Latin letters and spaces weigh 1.",
        ),
        Q(
            "Before answering a follow-up, what should you read? Choose all that apply.",
            (
                "The whole thread",
                "The customer's history with the brand",
                "The customer's private messages to other people",
                "Nothing: answer the last tweet only",
            ),
            (0, 1),
            "Read the thread and the history the desk shows you; nothing else.",
        ),
        Q(
            "You have answered a customer twice and they are still stuck. What now?",
            (
                "Answer a third time with the same link",
                "Escalate with the context",
                "Stop answering",
                "Ask them to tweet at a competitor",
            ),
            (1,),
            "After two answers that did not help, escalate with the context.",
        ),
        Q(
            "Which are good habits in a reply? Choose all that apply.",
            (
                "Start with the customer's @handle",
                "Thank them once and get to the point",
                "Blame a colleague to show it is not your fault",
                "Use sarcasm to lighten the mood",
            ),
            (0, 1),
            "Friendly, short, to the point; never blame or use sarcasm.",
        ),
    ),
)

SAFETY = ModuleSpec(
    slug="safety-and-privacy",
    title="Safety and privacy",
    video_url="https://example.com/training/safety-and-privacy",
    content="""\
Answering in public exposes the customer, the brand and you. This module is about keeping
all three safe.

## Customers' privacy

Treat everything a customer tells you as confidential. Use it only to answer them. Never
copy a customer's details into a personal note, a screenshot or another app, and never
look customers up outside the desk.

## Scams and phishing

Fake "support" accounts reply to customers with look-alike links to steal passwords and
card numbers. Only ever link to the brand's own domains (the composer warns you about any
other domain). Never ask for a password or a one-time code: the brand never needs them.
If you see a fake account targeting a customer, warn the customer and report the account
to a supervisor.

## Your own safety

Never share your own surname, phone number, personal account or store schedule with a
customer. If someone harasses or threatens you, stop answering, hand the question back
and tell a supervisor: you don't have to handle it alone.

## Children and vulnerable people

If someone appears to be a child, or tells you they are in danger or in crisis, don't
try to handle it alone: escalate at once so the official team can respond properly.

## Mistakes

If you posted something wrong or exposed personal data by mistake, tell a supervisor
straight away: sent replies can be deleted, and the sooner the better. Nobody is blamed
for reporting a mistake quickly.
""",
    questions=(
        Q(
            "A customer offers to send you their password so you can check their account. "
            "What do you do?",
            (
                "Accept it by direct message",
                "Tell them never to share their password: the brand never needs it",
                "Ask for the one-time code instead",
                "Forward it to a supervisor",
            ),
            (1,),
            "Nobody at the brand ever needs a password or a one-time code.",
        ),
        Q(
            "Which links may you post? Choose all that apply.",
            (
                "A link to the brand's own help page",
                "A link to the brand's product page",
                "A shortened link from a site you don't know",
                "A link a customer sent you",
            ),
            (0, 1),
            "Only link to the brand's own domains.",
        ),
        Q(
            "A customer keeps insulting you personally and asks where you work. What do "
            "you do? Choose all that apply.",
            (
                "Stop answering and hand the question back",
                "Tell a supervisor",
                "Tell them your store so they can complain in person",
                "Reply from your personal account",
            ),
            (0, 1),
            "Protect yourself: stop, hand it back and tell a supervisor.",
        ),
        Q(
            "You notice an account called @BrandHelpDesk_Support sending customers links. "
            "It is not one of the brand's accounts. What do you do?",
            (
                "Nothing: it is not your business",
                "Warn the customer and report the account to a supervisor",
                "Reply to the fake account to argue",
                "Retweet it so others see it",
            ),
            (1,),
            "Fake support accounts are phishing: warn and report.",
        ),
        Q(
            "You realise a reply you sent contains a customer's phone number. What now?",
            (
                "Hope nobody noticed",
                "Tell a supervisor straight away so it can be deleted",
                "Post a second reply apologising, with the number again",
                "Delete your account",
            ),
            (1,),
            "Report mistakes quickly: a supervisor can delete a sent reply.",
        ),
        Q(
            "Which of these may you share with a customer? Choose all that apply.",
            (
                "Your signature initials",
                "The brand's help page link",
                "Your personal phone number",
                "Your shift times",
            ),
            (0, 1),
            "Your initials and the brand's pages, never your own details.",
        ),
        Q(
            "A tweet suggests the writer is a child in distress. What do you do?",
            (
                "Answer as usual",
                "Escalate at once to the official team",
                "Ask for their age and address",
                "Ignore it",
            ),
            (1,),
            "Vulnerable people get the official team's response, at once.",
        ),
        Q(
            "What may you do with a customer's details? Choose all that apply.",
            (
                "Use them to answer their question in the desk",
                "Keep a screenshot for later",
                "Look the customer up on other social networks",
                "Nothing beyond answering them",
            ),
            (0, 3),
            "Customer details are used only to answer them, inside the desk.",
        ),
        Q(
            "A customer asks for a one-time code you 'sent' them. Did the brand send one?",
            (
                "Yes, ask them to post it",
                "Maybe, ask them to DM it",
                "Never ask for a one-time code: it is likely a scam",
                "Yes, ask for it with their password",
            ),
            (2,),
            "One-time codes are never asked for; a request for one is a scam sign.",
        ),
    ),
)

DEFAULT_MODULES: tuple[ModuleSpec, ...] = (CHARTER, ANSWERING, SAFETY)


def seed_brand(brand: Brand) -> int:
    """Create the default modules for ``brand`` unless it has modules; how many were made."""
    with transaction.atomic():
        # Lock the brand so two runs at once cannot both see "no modules".
        Brand.objects.select_for_update().get(pk=brand.pk)
        if TrainingModule.objects.filter(brand=brand).exists():
            return 0
        for position, spec in enumerate(DEFAULT_MODULES, 1):
            module = TrainingModule.objects.create(
                brand=brand,
                slug=spec.slug,
                title=spec.title,
                content=spec.content,
                video_url=spec.video_url,
                position=position,
                is_required=True,
                language="",
                pass_mark_percent=PASS_MARK_PERCENT,
                questions_per_attempt=QUESTIONS_PER_ATTEMPT,
                retake_cooldown_minutes=RETAKE_COOLDOWN_MINUTES,
            )
            QuizQuestion.objects.bulk_create(
                QuizQuestion(
                    module=module,
                    prompt=q.prompt,
                    kind=q.kind,
                    choices=list(q.choices),
                    correct=list(q.correct),
                    explanation=q.explanation,
                )
                for q in spec.questions
            )
        events.record(
            "training.modules_seeded",
            subject_id=None,
            brand_id=brand.pk,
            actor_label="system:seed_training",
            data={"modules": [spec.slug for spec in DEFAULT_MODULES]},
        )
    return len(DEFAULT_MODULES)


class Command(BaseCommand):
    help = (
        "Create the default training set (three required modules with quiz banks) for every "
        "brand that has no training modules yet, or only for --brand SLUG. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", metavar="SLUG", help="Only this brand.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options.get("brand")
        brands = Brand.objects.order_by("slug")
        if slug:
            brands = brands.filter(slug=slug)
            if not brands.exists():
                raise CommandError(f"No brand with the slug {slug!r}.")
        for brand in brands:
            made = seed_brand(brand)
            if made:
                self.stdout.write(
                    self.style.SUCCESS(f"{brand.slug}: created {made} training modules.")
                )
            else:
                self.stdout.write(f"{brand.slug}: has training modules already; left alone.")
