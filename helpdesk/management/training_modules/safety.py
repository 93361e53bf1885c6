"""The training module on safety and privacy."""

from __future__ import annotations

from helpdesk.management.training_modules.spec import ModuleSpec, Q

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
