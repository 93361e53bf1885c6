"""Classifying a new question: language, topic, priority, and question or noise.

Pure functions over a brand's compiled rules; the only database access is
:func:`compile_rules`, which reads the brand's rules once per call and recompiles them only
when they changed (a fingerprint of the rule rows is the rule set's version, so an edit in the
admin of any process is seen by the next batch everywhere, with no signal and no TTL).

Matching works on words, not on one regular expression per rule: the text is split into
accent-folded, lower-case words once, and keyword, phrase, hashtag and handle rules are
dictionary look-ups, so the cost grows with the length of the tweet, not with the number of
rules. Only ``regex`` rules run one by one.

Built-in heuristics (documented here because supervisors see their reasons):

* **Chatter.** A tweet is a question when it has a question mark, or a question or problem
  word in English or French ("how", "refund", "broken", "commande", "panne", "marche pas"
  ...), or it hits a topic rule or an urgency word. One without any of these is *chatter* only
  when it is recognisably so: nothing but reaction emoji ("@Brand 🔥🔥🔥"), only small-talk
  words ("@Brand good morning", "lol @Brand at it again", "@Brand thanks!"), or a chatter
  marker ("lol", "nice one", "love it"), and no link (a link may be the screenshot that shows
  the problem). Anything else gets the benefit of the doubt and is queued: a volunteer
  glancing at a stray tweet costs less than a customer ignored.
* **Closings.** Without a question mark or a link: the customer says it is solved ("It's
  sorted now"), or thanks and says what they will do ("Thank you I will call this
  afternoon"); a laughing emoji with at most three words ("😂 painful..."); nothing but
  mentions.
* **Spam and ads.** Five or more hashtags when nothing is asked or reported (a complaint may
  carry several); giveaway, crypto and follow-back phrases ("follow
  back", "follow + RT", "giveaway", "bitcoin", "500% gains"); or nothing but links and
  mentions (nothing else, not even an emoji).
* **A reply to another customer.** The tweet answers someone who is not one of the brand's
  accounts and mentions neither a care handle nor another handle of the brand (``@TMobile``
  for ``TMobileHelp``: ``routing.actions.names_the_brand``).
* **Priority.** Normal (2) to start; a brand rule with the effect "priority" raises it by its
  ``priority_boost``; what cannot wait (an intruder in the account, money taken wrongly,
  fraud or phishing, a device overheating, a deadline within a day: ``CRITICAL_PATTERN``)
  raises it by two; urgency or anger words (EN/FR) or "!!!" in a question or problem by one
  ("joke" and "immediately" alone do not count); a customer with at least 10,000 followers
  by one; a customer whose earlier question is still unanswered (and who is not replying to
  the brand, which did answer) by one, from the stored history in tweet order, so batching
  changes nothing; a
  tweet that waited an hour or more before reaching the desk by one. Clamped to 0..3 (lower is
  more urgent).

* **Negative.** Whether the customer reads unhappy, in English (VADER with the courtesy and
  problem words taken out) and French (our lexicon), plus swearing, anger words, unhappy emoji
  and shouting in both (``sentiment``). It changes no routing; monitoring counts it.

The parts: ``words`` (folding, word splitting, the built-in vocabularies), ``language``,
``rules`` (a brand's rules compiled and matched), ``sentiment`` and ``classification`` (the
verdict); the package's entry points are re-exported here.
"""

from routing.classify.classification import Classification, RuleHit, classify
from routing.classify.rules import compile_rules
from routing.classify.sentiment import Sentiment, sentiment_of

__all__ = ["Classification", "RuleHit", "Sentiment", "classify", "compile_rules", "sentiment_of"]
