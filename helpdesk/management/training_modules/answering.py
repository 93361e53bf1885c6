"""The module on answering well."""

from __future__ import annotations

from helpdesk.management.training_modules.spec import ModuleSpec, Q

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
