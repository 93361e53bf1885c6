"""The module on the usage charter."""

from __future__ import annotations

from helpdesk.management.training_modules.spec import ModuleSpec, Q

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
