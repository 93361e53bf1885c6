"""The X sandbox, driven the way production drives X: tweepy over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy

from charter.linter import LintConfig, lint
from helpdesk.x.sandbox import SandboxAccount, XSandbox
from helpdesk.x.sandbox.records import x_escaped
from helpdesk.x.sandbox.traffic import (
    CHATTER,
    load_conversations,
    load_french_questions,
    retarget,
)

X_ORIGIN = "https://api.twitter.com"
CARE = SandboxAccount(
    username="CareDesk",
    user_id="9000000001",
    bearer_token="bearer-care",
    consumer_key="ck-care",
    consumer_secret="cs-care",
    access_token="9000000001-at",
    access_token_secret="ats-care",
)
CARE_FR = SandboxAccount(
    username="CareDeskFR",
    user_id="9000000002",
    bearer_token="bearer-fr",
    consumer_key="ck-fr",
    consumer_secret="cs-fr",
    access_token="9000000002-at",
    access_token_secret="ats-fr",
    language="fr",
)
REPLY_NOT_ALLOWED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)


class _Rewrite(requests.adapters.HTTPAdapter):
    """Sends api.twitter.com requests to the sandbox, like production's gateway adapter."""

    def __init__(self, base: str, timeout: float | None = None) -> None:
        super().__init__()
        self.base = base
        self.timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kw: Any
    ) -> requests.Response:
        assert request.url is not None
        request.url = self.base + request.url[len(X_ORIGIN) :]
        if self.timeout is not None:
            kw["timeout"] = self.timeout
        return super().send(request, **kw)


def _client(
    sandbox: XSandbox,
    account: SandboxAccount = CARE,
    *,
    timeout: float | None = None,
    **overrides: str,
) -> Any:
    credentials = {
        "bearer_token": account.bearer_token,
        "consumer_key": account.consumer_key,
        "consumer_secret": account.consumer_secret,
        "access_token": account.access_token,
        "access_token_secret": account.access_token_secret,
    }
    credentials.update(overrides)
    client = tweepy.Client(**credentials, return_type=dict)
    client.session.mount(X_ORIGIN + "/", _Rewrite(sandbox.base_url, timeout))
    return client


@pytest.fixture
def xs() -> Iterator[XSandbox]:
    with XSandbox(seed=7) as sandbox:
        sandbox.world.add_account(CARE)
        yield sandbox


def _inject(sandbox: XSandbox, *tweets: dict[str, Any]) -> list[str]:
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/tweets", json={"tweets": list(tweets)}, timeout=30
    )
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def _mention_ids(client: Any, **params: Any) -> tuple[list[str], Any]:
    page = client.get_users_mentions(CARE.user_id, **params)
    return [t["id"] for t in page.get("data", [])], page


def test_users_me_answers_the_oauth1_user(xs: XSandbox) -> None:
    me = _client(xs).get_me()

    assert me == {"data": {"id": CARE.user_id, "name": "Care Desk", "username": "CareDesk"}}


def test_mentions_pages_each_tweet_exactly_once_while_new_tweets_arrive(xs: XSandbox) -> None:
    # given 250 mentions interleaved with tweets that mention someone else
    batch: list[dict[str, Any]] = []
    for n in range(250):
        batch.append({"author_username": f"cust{n % 7}", "text": f"@CareDesk question {n}"})
        batch.append({"author_username": "other", "text": f"@SomeoneElse chatter {n}"})
    mentions = _inject(xs, *batch)[::2]
    client = _client(xs)

    # when paging 100 at a time, with new mentions arriving after the first page
    seen, page = _mention_ids(client, max_results=100)
    _inject(xs, *({"author_username": "late", "text": f"@caredesk late {n}"} for n in range(5)))
    while "next_token" in page["meta"]:
        ids, page = _mention_ids(
            client, max_results=100, pagination_token=page["meta"]["next_token"]
        )
        seen += ids

    # then every original mention came once, newest first, and the late ones did not leak in
    assert seen == list(reversed(mentions))
    assert page["meta"]["result_count"] == 50

    # and since_id gives exactly the newer ones
    newer, page = _mention_ids(client, since_id=mentions[239], max_results=100)
    assert len(newer) == 15  # 10 originals + 5 late
    assert newer[-10:] == list(reversed(mentions[240:]))
    assert page["meta"]["newest_id"] == newer[0]
    assert page["meta"]["oldest_id"] == mentions[240]
    assert "next_token" not in page["meta"]


def test_mentions_empty_and_out_of_range_max_results(xs: XSandbox) -> None:
    client = _client(xs)

    assert client.get_users_mentions(CARE.user_id) == {"meta": {"result_count": 0}}
    with pytest.raises(tweepy.BadRequest) as raised:
        client.get_users_mentions(CARE.user_id, max_results=101)
    assert "max_results" in raised.value.api_messages[0]


def test_without_fields_only_id_text_and_edit_history_come_back(xs: XSandbox) -> None:
    _inject(xs, {"author_username": "alice", "text": "@CareDesk where is my order? #late"})

    page = _client(xs).get_users_mentions(CARE.user_id)

    assert set(page) == {"data", "meta"}
    (tweet,) = page["data"]
    assert set(tweet) == {"id", "text", "edit_history_tweet_ids"}
    assert tweet["edit_history_tweet_ids"] == [tweet["id"]]


def test_fields_and_expansions_are_honoured(xs: XSandbox) -> None:
    xs.world.add_user("alice", name="Alice A", description="Loves gadgets", user_id="123456")
    (question,) = _inject(xs, {"author_username": "alice", "text": "@CareDesk my order? #late"})
    client = _client(xs)
    client.create_tweet(text="@alice Sorry! Let me check.", in_reply_to_tweet_id=question)
    thanks = {"author_username": "alice", "text": "@CareDesk thanks"}
    _inject(xs, {**thanks, "in_reply_to_tweet_id": question})

    page = client.get_users_mentions(
        CARE.user_id,
        tweet_fields=[
            "created_at",
            "author_id",
            "conversation_id",
            "referenced_tweets",
            "entities",
            "in_reply_to_user_id",
            "lang",
            "public_metrics",
        ],
        expansions=["author_id", "referenced_tweets.id", "in_reply_to_user_id"],
        user_fields=["description", "created_at"],
    )

    followup, first = page["data"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["created_at"])
    assert first["author_id"] == "123456"
    assert first["conversation_id"] == question
    assert first["lang"] == "en"
    assert "in_reply_to_user_id" not in first and "referenced_tweets" not in first
    assert first["entities"]["mentions"] == [
        {"start": 0, "end": 9, "username": "CareDesk", "id": CARE.user_id}
    ]
    assert first["entities"]["hashtags"] == [{"start": 20, "end": 25, "tag": "late"}]
    assert first["public_metrics"]["reply_count"] == 2
    assert followup["referenced_tweets"] == [{"type": "replied_to", "id": question}]
    assert followup["in_reply_to_user_id"] == "123456"
    assert followup["conversation_id"] == question
    users = {u["username"]: u for u in page["includes"]["users"]}
    assert users["alice"]["description"] == "Loves gadgets"
    assert set(users["alice"]) == {"id", "name", "username", "description", "created_at"}
    assert [t["id"] for t in page["includes"]["tweets"]] == [question]


def test_reply_is_created_in_the_conversation(xs: XSandbox) -> None:
    (question,) = _inject(xs, {"author_username": "bob", "text": "@CareDesk my TV is broken"})

    reply = _client(xs).create_tweet(text="@bob Sorry to hear that!", in_reply_to_tweet_id=question)

    assert set(reply["data"]) == {"id", "text", "edit_history_tweet_ids"}
    listed = requests.get(
        f"{xs.base_url}/_sandbox/tweets", params={"in_reply_to": question}, timeout=5
    ).json()["data"]
    assert [t["id"] for t in listed] == [reply["data"]["id"]]
    assert listed[0]["conversation_id"] == question
    assert listed[0]["in_reply_to_user_id"] == xs.world.user_named("bob").id  # type: ignore[union-attr]
    assert listed[0]["author_id"] == CARE.user_id


def test_text_goes_out_escaped_as_x_sends_it_and_is_kept_as_written(xs: XSandbox) -> None:
    # Given a customer who writes the three characters X escapes, and entities of their own
    written = '@CareDesk Q&A: is 4 < 5 > 3? I typed &amp; and &lt;b&gt;, "quotes" stay'
    (question,) = _inject(xs, {"author_username": "amy", "text": written})
    client = _client(xs)

    # When the care account reads its mentions and replies with the same characters
    (mention,) = client.get_users_mentions(CARE.user_id)["data"]
    reply = client.create_tweet(text="@amy Yes: 4 < 5 & 5 > 3 ^AB", in_reply_to_tweet_id=question)

    # Then X's wire shape escapes &, < and > (and nothing else), once, both ways
    assert mention["text"] == (
        "@CareDesk Q&amp;A: is 4 &lt; 5 &gt; 3? I typed &amp;amp; and &amp;lt;b&amp;gt;, "
        '"quotes" stay'
    )
    assert reply["data"]["text"] == "@amy Yes: 4 &lt; 5 &amp; 5 &gt; 3 ^AB"
    # and the world keeps the texts as they were written
    assert xs.world.tweet(question).text == written  # type: ignore[union-attr]
    assert xs.world.tweet(reply["data"]["id"]).text == "@amy Yes: 4 < 5 & 5 > 3 ^AB"  # type: ignore[union-attr]


@pytest.mark.parametrize("extra", [0, 1], ids=["at-the-limit", "one-over"])
def test_the_sandbox_and_the_linter_count_escaped_characters_alike(
    xs: XSandbox, extra: int
) -> None:
    # Given a reply of exactly 280 (or 281) characters, many of them ones X escapes
    (question,) = _inject(xs, {"author_username": "amy", "text": "@CareDesk help"})
    text = "@amy " + "&<>" * 91 + "x" * (2 + extra)
    assert len(text) == 280 + extra

    # When the linter measures it and the sandbox is asked to post it
    result = lint(text, LintConfig(), signature="")
    client = _client(xs)

    # Then both count 280 (or 281) as X does, on the text as written: they agree
    assert result.weighted_length == 280 + extra
    if extra:
        assert "over_length" in result.rules
        with pytest.raises(tweepy.BadRequest, match="Your Tweet text is too long"):
            client.create_tweet(text=text, in_reply_to_tweet_id=question)
    else:
        assert "over_length" not in result.rules
        posted = client.create_tweet(text=text, in_reply_to_tweet_id=question)
        assert posted["data"]["text"] == x_escaped(text)


def test_duplicate_content_is_forbidden(xs: XSandbox) -> None:
    first, second = _inject(
        xs,
        {"author_username": "bob", "text": "@CareDesk help"},
        {"author_username": "eve", "text": "@CareDesk help too"},
    )
    client = _client(xs)
    client.create_tweet(text="We're on it!", in_reply_to_tweet_id=first)

    with pytest.raises(tweepy.Forbidden) as raised:
        client.create_tweet(text="We're on it!", in_reply_to_tweet_id=second)

    assert raised.value.api_messages == [
        "You are not allowed to create a Tweet with duplicate content."
    ]
    assert raised.value.response.json()["type"] == "about:blank"
    assert xs.world.stats()["replies_posted"] == {"CareDesk": 1}


def test_reply_to_a_post_that_did_not_mention_the_account_is_forbidden(xs: XSandbox) -> None:
    (post,) = _inject(xs, {"author_username": "carol", "text": "My phone died again, sigh"})

    with pytest.raises(tweepy.Forbidden) as raised:
        _client(xs).create_tweet(text="@carol Can we help?", in_reply_to_tweet_id=post)

    assert raised.value.response.json() == {
        "detail": REPLY_NOT_ALLOWED,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    assert xs.world.find(author="CareDesk") == []


def test_enterprise_access_lifts_the_reply_rule_until_reset(xs: XSandbox) -> None:
    (post,) = _inject(xs, {"author_username": "carol", "text": "My phone died again, sigh"})
    refused = requests.post(f"{xs.base_url}/_sandbox/access", json={"tier": "gold"}, timeout=5)
    assert refused.status_code == 400
    assert xs.world.enterprise_access is False

    granted = requests.post(
        f"{xs.base_url}/_sandbox/access", json={"tier": "enterprise"}, timeout=5
    )
    assert granted.status_code == 200
    _client(xs).create_tweet(text="@carol Can we help?", in_reply_to_tweet_id=post)
    assert [t.text for t in xs.world.find(author="CareDesk")] == ["@carol Can we help?"]

    xs.world.reset()
    (again,) = _inject(xs, {"author_username": "carol", "text": "Still dead"})
    with pytest.raises(tweepy.Forbidden):
        _client(xs).create_tweet(text="@carol Still here to help", in_reply_to_tweet_id=again)


def test_bad_credentials_are_unauthorized(xs: XSandbox) -> None:
    with pytest.raises(tweepy.Unauthorized) as raised:
        _client(xs, bearer_token="wrong").get_users_mentions(CARE.user_id)
    assert raised.value.response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    with pytest.raises(tweepy.Unauthorized):
        _client(xs, consumer_secret="not-the-secret").create_tweet(text="badly signed")
    with pytest.raises(tweepy.Forbidden):  # app-only auth cannot post
        _client(xs).create_tweet(text="as the app", user_auth=False)
    assert xs.world.find(author="CareDesk") == []


def test_spent_limit_raises_too_many_requests_with_reset_time(xs: XSandbox) -> None:
    xs.world.set_limit("mentions", 2)
    client = tweepy.Client(bearer_token=CARE.bearer_token)
    client.session.mount(X_ORIGIN + "/", _Rewrite(xs.base_url))
    first = client.get_users_mentions(CARE.user_id)
    client.get_users_mentions(CARE.user_id)

    with pytest.raises(tweepy.TooManyRequests) as raised:
        client.get_users_mentions(CARE.user_id)

    assert first.meta == {"result_count": 0}
    headers = raised.value.response.headers
    assert headers["x-rate-limit-limit"] == "2"
    assert headers["x-rate-limit-remaining"] == "0"
    assert time.time() + 890 < raised.value.reset_time <= time.time() + 901
    assert raised.value.response.json()["title"] == "Too Many Requests"
    # the user-context window is a separate bucket
    assert _client(xs).get_users_mentions(CARE.user_id, user_auth=True)["meta"] == {
        "result_count": 0
    }


def test_server_error_fault_then_recovery(xs: XSandbox) -> None:
    xs.world.add_fault("mentions", "5xx")
    client = _client(xs)

    with pytest.raises(tweepy.TwitterServerError):
        client.get_users_mentions(CARE.user_id)

    assert client.get_users_mentions(CARE.user_id) == {"meta": {"result_count": 0}}
    assert xs.world.stats()["faults_served"] == {"5xx": 1}


def test_timeout_after_accept_creates_the_reply_exactly_once(xs: XSandbox) -> None:
    (question,) = _inject(xs, {"author_username": "dan", "text": "@CareDesk is it shipped?"})
    fault = requests.post(
        f"{xs.base_url}/_sandbox/faults",
        json={"endpoint": "create_tweet", "kind": "timeout_after_accept", "count": 1, "seconds": 3},
        timeout=5,
    )
    assert fault.status_code == 201

    with pytest.raises((requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError)):
        _client(xs, timeout=0.5).create_tweet(text="@dan Yes!", in_reply_to_tweet_id=question)

    timeline = _client(xs).get_users_tweets(CARE.user_id, tweet_fields=["referenced_tweets"])
    assert [t["text"] for t in timeline["data"]] == ["@dan Yes!"]
    assert timeline["data"][0]["referenced_tweets"] == [{"type": "replied_to", "id": question}]


SEARCH_CASES = [
    ("order", {"t1", "t4"}),
    ("ORDER -from:alice", {"t4"}),
    ('"never arrived"', {"t1"}),
    ('"arrived never"', set()),
    ("@caredesk", {"t1", "t2"}),
    ("#blackfriday", {"t6"}),
    ("from:alice", {"t1"}),
    ("to:alice", {"t4"}),
    ("lang:fr", {"t2"}),
    ("is:retweet", {"t5"}),
    ("service -is:retweet", {"t3"}),
    ("is:reply", {"t4"}),
    ("store OR deals", {"t3", "t5", "t6"}),
    ("(order OR colis) -is:reply", {"t1", "t2"}),
    ("order sorry", {"t4"}),
]


@pytest.mark.parametrize(("query", "expected"), SEARCH_CASES)
def test_search_query_language(xs: XSandbox, query: str, expected: set[str]) -> None:
    world = xs.world
    alice, bob, carol = (world.add_user(n) for n in ("alice", "bob", "carol"))
    dave, erin = world.add_user("dave"), world.add_user("erin")
    care = world.user(CARE.user_id)
    assert care is not None
    t1 = world.inject(alice, "@CareDesk my order #1234 never arrived")
    t2 = world.inject(bob, "Le colis n'est jamais arrivé @CareDesk")
    t3 = world.inject(carol, "Great service from the store today")
    t4 = world.inject(care, "@alice Sorry about the order", in_reply_to=t1.id)
    t5 = world.inject(dave, "", retweet_of=t3.id)
    t6 = world.inject(erin, "#BlackFriday deals are live")
    world.inject(alice, "@CareDesk order ancient", created_at=world.now() - timedelta(days=8))
    tweets = (t1, t2, t3, t4, t5, t6)
    labels = {tweet.id: f"t{n}" for n, tweet in enumerate(tweets, start=1)}

    page = _client(xs).search_recent_tweets(query, max_results=100)

    assert {labels[t["id"]] for t in page.get("data", [])} == expected


@pytest.mark.parametrize("query", ["(order", "order OR", "is:nonsense", ""])
def test_search_rejects_bad_queries(xs: XSandbox, query: str) -> None:
    with pytest.raises(tweepy.BadRequest):
        _client(xs).search_recent_tweets(query)


def test_oauth2_pkce_round_trip(xs: XSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    volunteer = xs.world.add_user("volunteer_ann", name="Ann")
    (question,) = _inject(xs, {"author_username": "frank", "text": "@volunteer_ann any tips?"})
    handler = tweepy.OAuth2UserHandler(
        client_id="desk-app",
        redirect_uri="http://127.0.0.1:9/x/callback",
        scope=["tweet.read", "tweet.write", "users.read", "offline.access"],
        client_secret="desk-secret",
    )
    handler.mount(X_ORIGIN + "/", _Rewrite(xs.base_url))

    # the user approves at once: the sandbox redirects back with the code and the state
    url = handler.get_authorization_url()
    assert url.startswith("https://twitter.com/i/oauth2/authorize?")
    approval = requests.get(
        xs.base_url + url[len("https://twitter.com") :], allow_redirects=False, timeout=5
    )
    assert approval.status_code == 302
    location = approval.headers["Location"]
    assert location.startswith("http://127.0.0.1:9/x/callback?")
    token = handler.fetch_token(location)

    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 7200
    client = tweepy.Client(bearer_token=token["access_token"], return_type=dict)
    client.session.mount(X_ORIGIN + "/", _Rewrite(xs.base_url))
    assert client.get_me(user_auth=False)["data"]["id"] == volunteer.id
    created = client.create_tweet(
        text="@frank Try a restart", in_reply_to_tweet_id=question, user_auth=False
    )
    assert xs.world.tweet(created["data"]["id"]).author_id == volunteer.id  # type: ignore[union-attr]

    # the refresh token rotates: a new access token works, the old refresh token is spent
    refreshed = handler.refresh_token(
        X_ORIGIN + "/2/oauth2/token", refresh_token=token["refresh_token"]
    )
    client.bearer_token = refreshed["access_token"]
    assert client.get_me(user_auth=False)["data"]["username"] == "volunteer_ann"
    reused = requests.post(
        f"{xs.base_url}/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": "desk-app",
        },
        timeout=5,
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_request"


def test_oauth2_code_with_wrong_verifier_is_refused(xs: XSandbox) -> None:
    xs.world.add_user("volunteer_bo")
    approval = requests.get(
        f"{xs.base_url}/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "app",
            "redirect_uri": "http://localhost/cb",
            "state": "s1",
            "code_challenge": "abc",
            "code_challenge_method": "S256",
            "scope": "tweet.read users.read",
            "as_user": "volunteer_bo",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = re.search(r"code=([^&]+)", approval.headers["Location"])
    assert code is not None and "state=s1" in approval.headers["Location"]

    response = requests.post(
        f"{xs.base_url}/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "client_id": "app",
            "redirect_uri": "http://localhost/cb",
            "code_verifier": "not-the-verifier",
        },
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_traffic_posts_corpus_and_french_questions_to_the_care_accounts() -> None:
    corpus = load_conversations()
    english = {
        retarget(message, c.company, CARE.username) for c in corpus for message in c.messages
    }
    french = {
        text.replace("{handle}", f"@{CARE_FR.username}")
        for q in load_french_questions()
        for text in (q.text, *q.followups)
    }
    sandbox = XSandbox(traffic_rate=300, seed=11)
    sandbox.traffic.followup_delay = (0.01, 0.05)
    sandbox.world.add_account(CARE)
    sandbox.world.add_account(CARE_FR)
    with sandbox:
        deadline = time.monotonic() + 20
        while sandbox.traffic.generated < 120 and time.monotonic() < deadline:
            time.sleep(0.05)
        sandbox.traffic.set_rate(0)
        time.sleep(0.2)
        mentions = _client(sandbox).get_users_mentions(
            CARE.user_id, max_results=100, tweet_fields=["referenced_tweets", "conversation_id"]
        )["data"]
        french_mentions = _client(sandbox, CARE_FR).get_users_mentions(
            CARE_FR.user_id, max_results=100
        )["data"]

    def chatter(handle: str) -> set[str]:
        return {text.replace("{handle}", f"@{handle}") for text in CHATTER}

    questions = [t for t in mentions if not t["text"].startswith("RT @CareDesk: ")]
    assert len(questions) > 40
    assert {t["text"] for t in questions} <= {
        x_escaped(text) for text in english | chatter(CARE.username)
    }
    assert any(t["text"].startswith("@CareDesk ") for t in questions)
    followups = [t for t in questions if "referenced_tweets" in t]
    assert followups and all(t["conversation_id"] != t["id"] for t in followups)
    french_questions = [t for t in french_mentions if not t["text"].startswith("RT @")]
    assert french_questions
    assert {t["text"] for t in french_questions} <= {
        x_escaped(text) for text in french | chatter(CARE_FR.username)
    }


@pytest.mark.parametrize(
    "path", ["/_sandbox/tweets", "/_sandbox/accounts", "/_sandbox/faults", "/_sandbox/traffic"]
)
def test_malformed_json_is_a_400_not_a_crash(xs: XSandbox, path: str) -> None:
    response = requests.post(
        xs.base_url + path,
        data=b'{"tweets": [',
        headers={"Content-Type": "application/json"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert requests.get(f"{xs.base_url}/_sandbox/stats", timeout=5).status_code == 200


def test_malformed_json_to_create_tweet_is_a_bad_request(xs: XSandbox) -> None:
    client = _client(xs)
    auth = tweepy.OAuth1UserHandler(
        CARE.consumer_key, CARE.consumer_secret, CARE.access_token, CARE.access_token_secret
    ).apply_auth()

    response = client.session.post(
        f"{X_ORIGIN}/2/tweets",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        auth=auth,
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"
    assert xs.world.find(author="CareDesk") == []
    assert client.get_me()["data"]["username"] == "CareDesk"


def test_ten_thousand_tweets_in_one_injection(xs: XSandbox) -> None:
    batch = [{"author_username": f"c{n % 50}", "text": f"@CareDesk q{n}"} for n in range(10_000)]

    ids = _inject(xs, *batch)

    assert len(ids) == 10_000
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert int(ids[0]) > 1_300_000_000_000_000_000  # larger than any 2020 corpus id
    assert xs.world.stats()["tweets"] == 10_000


def test_retweet_and_delete(xs: XSandbox) -> None:
    (post,) = _inject(xs, {"author_username": "gina", "text": "Great deals at @CareDesk"})
    client = _client(xs)

    assert client.retweet(post) == {"data": {"retweeted": True}}
    (retweet,) = xs.world.find(author="CareDesk")
    assert retweet.text == "RT @gina: Great deals at @CareDesk"
    assert retweet.referenced == [("retweeted", post)]
    assert client.delete_tweet(retweet.id) == {"data": {"deleted": True}}
    assert xs.world.find(author="CareDesk") == []
    with pytest.raises(tweepy.Forbidden):
        client.delete_tweet(post)
    assert xs.world.tweet(post) is not None


def test_created_at_of_injected_tweets_is_kept(xs: XSandbox) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    stamp = "2026-01-02T03:04:05.678Z"
    (tweet_id,) = _inject(
        xs, {"author_username": "hal", "text": "@CareDesk hi", "created_at": stamp}
    )

    page = _client(xs).get_users_mentions(CARE.user_id, tweet_fields=["created_at"])

    assert xs.world.tweet(tweet_id).created_at == when  # type: ignore[union-attr]
    assert page["data"][0]["created_at"] == "2026-01-02T03:04:05.678Z"
