"""A subset of X's search query language, compiled to a predicate on sandbox tweets.

Space is AND (binding tighter than ``OR``), parentheses group, ``-`` negates, and the
operators are ``"exact phrase"``, ``@handle``, ``#tag``, ``from:``, ``to:``, ``lang:``,
``conversation_id:``, ``is:retweet|reply|quote`` and ``has:links|mentions|hashtags``.
Keywords match whole words, case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, invalid_request
from .records import Tweet

MAX_QUERY_LENGTH = 512

Predicate = Callable[[Tweet], bool]

_TOKEN_RE = re.compile(r'\s*(?:(-?)"([^"]*)"|(\()|(\))|(-?[^\s()"]+)|("))')
_WORD_RE = re.compile(r"\w+(?:'\w+)*")


@dataclass(frozen=True)
class _Token:
    kind: str  # "term", "phrase", "(", ")", "OR"
    value: str = ""
    negated: bool = False


def _error(message: str, query: str) -> ApiError:
    return invalid_request(message, "query", query)


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    stripped = query.rstrip()
    while position < len(stripped):
        match = _TOKEN_RE.match(stripped, position)
        if match is None:  # pragma: no cover - the pattern matches any non-space character
            raise _error(
                f"There were errors processing your request: bad query at {position}", query
            )
        negation, phrase, opening, closing, term, stray_quote = match.groups()
        if stray_quote:
            raise _error("There were errors processing your request: unclosed quote", query)
        if phrase is not None:
            tokens.append(_Token("phrase", phrase, bool(negation)))
        elif opening:
            tokens.append(_Token("("))
        elif closing:
            tokens.append(_Token(")"))
        elif term == "OR":
            tokens.append(_Token("OR"))
        elif term.startswith("-") and len(term) > 1:
            tokens.append(_Token("term", term[1:], negated=True))
        elif term == "-":
            tokens.append(_Token("-"))
        else:
            tokens.append(_Token("term", term))
        position = match.end()
    return tokens


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


def _contains_words(needle: list[str], haystack: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def _keyword(value: str) -> Predicate:
    needle = _words(value)
    if not needle:
        folded = value.casefold()
        return lambda tweet: folded in tweet.text.casefold()
    return lambda tweet: _contains_words(needle, _words(tweet.text))


def _operator(name: str, value: str, query: str) -> Predicate:
    folded = value.casefold().lstrip("@")
    if not folded:
        raise _error(f"There were errors processing your request: empty {name}: operator", query)
    if name == "from":
        return lambda t: t.author_username.lower() == folded or t.author_id == folded
    if name == "to":
        return lambda t: (
            (t.in_reply_to_username or "").lower() == folded or (t.in_reply_to_user_id == folded)
        )
    if name == "lang":
        return lambda t: t.lang.casefold() == folded
    if name == "conversation_id":
        return lambda t: t.conversation_id == folded
    if name == "is":
        kinds = {"retweet": "retweeted", "quote": "quoted", "reply": "replied_to"}
        if folded not in kinds:
            raise _error(f"There were errors processing your request: unknown is:{value}", query)
        kind = kinds[folded]
        return lambda t: t.referenced_id(kind) is not None
    if name == "has":
        attributes = {"links": "urls", "mentions": "mentions", "hashtags": "hashtags"}
        if folded not in attributes:
            raise _error(f"There were errors processing your request: unknown has:{value}", query)
        attribute = attributes[folded]
        return lambda t: bool(getattr(t, attribute))
    return _keyword(f"{name}:{value}")


_OPERATORS = frozenset({"from", "to", "lang", "conversation_id", "is", "has"})


def _atom(token: _Token, query: str) -> Predicate:
    value = token.value
    predicate: Predicate
    if token.kind == "phrase":
        predicate = _keyword(value)
    elif value.startswith("@") and len(value) > 1:
        handle = value[1:].lower()
        predicate = lambda t: handle in t.mention_names  # noqa: E731
    elif value.startswith("#") and len(value) > 1:
        tag = value[1:].casefold()
        predicate = lambda t: any(str(h["tag"]).casefold() == tag for h in t.hashtags)  # noqa: E731
    elif ":" in value and value.split(":", 1)[0].lower() in _OPERATORS:
        name, operand = value.split(":", 1)
        predicate = _operator(name.lower(), operand, query)
    else:
        predicate = _keyword(value)
    if token.negated:
        return lambda t: not predicate(t)
    return predicate


class _Parser:
    def __init__(self, tokens: list[_Token], query: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.query = query

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self) -> Predicate:
        branches = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            branches.append(self.parse_and())
        if len(branches) == 1:
            return branches[0]
        return lambda t: any(branch(t) for branch in branches)

    def parse_and(self) -> Predicate:
        parts: list[Predicate] = []
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            parts.append(self.parse_unary())
        if not parts:
            raise _error("There were errors processing your request: missing clause", self.query)
        if len(parts) == 1:
            return parts[0]
        return lambda t: all(part(t) for part in parts)

    def parse_unary(self) -> Predicate:
        token = self.take()
        if token.kind == "-":
            following = self.peek()
            if following is None or following.kind != "(":
                raise _error("There were errors processing your request: lone -", self.query)
            inner = self.parse_unary()
            return lambda t: not inner(t)
        if token.kind == "(":
            inner = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise _error("There were errors processing your request: missing )", self.query)
            self.take()
            return inner
        return _atom(token, self.query)


def compile_query(query: str) -> Predicate:
    """Compile ``query`` or raise the 400 X would answer for it."""
    if not query.strip():
        raise _error("The `query` query parameter can not be empty", query)
    if len(query) > MAX_QUERY_LENGTH:
        raise _error(f"The `query` query parameter value is longer than {MAX_QUERY_LENGTH}", query)
    tokens = _tokenize(query)
    parser = _Parser(tokens, query)
    predicate = parser.parse_or()
    if parser.peek() is not None:
        raise _error("There were errors processing your request: unbalanced )", query)
    return predicate
