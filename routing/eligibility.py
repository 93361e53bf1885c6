"""Who may take a question: topic skills, languages, store or region for local topics, on
shift, under the cap on open claims, and allowed by the charter's gate.

An :class:`EligibilityIndex` is built once per brand per batch of decisions from the people
on shift (a handful of queries whatever their number) and then answers each question from
sets and dicts: people are indexed by language and by skill, so a decision intersects two
sets and checks the few cheap conditions left on the survivors.

The gate is charter's (``charter.gate.may_claim``) and is asked per person. Asking it for
3,000 people costs three queries each, so the index memoises its answers keyed by
everything the gate reads (account active, the standing's level, suspension and training
dates, whether the training has expired, the accepted and the binding charter numbers),
which the index loads in bulk: any change to those inputs is a new key, so a memoised answer
is never stale. The claim itself always asks the gate afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone

from charter.acceptance import binding_version
from charter.gate import clears_crisis, clears_crisis_sql, may_claim, may_claim_sql
from charter.models import CharterAcceptance, Standing
from helpdesk.models import Question, Store, Volunteer
from helpdesk.people import person_name
from helpdesk.permissions import DESK_ROLES
from helpdesk.states import QuestionState
from routing.classify.language import UNDETERMINED_LANGS
from routing.crisis import CrisisScope, crisis_scope
from routing.models import RoutingSettings, Shift, Topic
from routing.presence import routing_settings_for

OPEN_CLAIM_STATES = (QuestionState.CLAIMED, QuestionState.DRAFTING)
DEFAULT_LANGUAGES = ("en",)
# The same codes classification treats as "no language": a question routing could not tell
# the language of is open to everyone (it missed "qct" and "qst", open to no one).
ANY_LANGUAGE = UNDETERMINED_LANGS

# A gate's answer for a person: allowed, the refusals' codes, and their level.
GateAnswer = tuple[bool, tuple[str, ...], str]

_gate_memo: dict[tuple[Any, ...], GateAnswer] = {}
_gate_memo_lock = threading.Lock()
_GATE_MEMO_LIMIT = 100_000


def primary_language(tag: str) -> str:
    """``en-GB`` -> ``en``; X's "undetermined" codes and an empty tag -> ``""`` (anyone)."""
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    return "" if primary in ANY_LANGUAGE else primary


@dataclass
class Person:
    """One person on shift, as the index sees them."""

    user_id: int
    display: str
    languages: frozenset[str]
    skills: frozenset[str]
    store_id: int | None
    region: str
    open_claims: int
    gate_allowed: bool
    gate_codes: tuple[str, ...]
    # May take questions under crisis mode (certified or mentor).
    crisis_cleared: bool = False


def brand_topics(brand_id: int) -> dict[int, Topic]:
    """The brand's topics, by id."""
    return {topic.pk: topic for topic in Topic.objects.filter(brand_id=brand_id)}


@dataclass
class EligibilityIndex:
    brand_id: int
    settings: RoutingSettings
    people: dict[int, Person]
    topics: dict[int, Topic]
    store_regions: dict[int, str]
    by_language: dict[str, set[int]] = field(default_factory=dict)
    by_skill: dict[str, set[int]] = field(default_factory=dict)
    # The people who can take any question's language/skill check at all (gate, cap).
    available: set[int] = field(default_factory=set)
    # The topics (or the whole brand) under crisis mode, and who may take them.
    crisis: CrisisScope = field(default_factory=CrisisScope)
    crisis_cleared: set[int] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        brand_id: int,
        *,
        user_ids: Collection[int] | None = None,
        now: datetime | None = None,
        fresh_gate: bool = False,
        on_shift_only: bool = True,
        settings: RoutingSettings | None = None,
        topics: dict[int, Topic] | None = None,
    ) -> EligibilityIndex:
        """The brand's people on shift (or only ``user_ids`` among them). ``fresh_gate``
        asks the gate for each person instead of using memoised answers. ``settings`` and
        ``topics`` (:func:`brand_topics`): the brand's, when the caller has read them."""
        now = now or timezone.now()
        settings = settings if settings is not None else routing_settings_for(brand_id)
        topics = topics if topics is not None else brand_topics(brand_id)
        shifts = Shift.objects.filter(brand_id=brand_id, ended_at__isnull=True)
        if user_ids is not None:
            shifts = shifts.filter(user_id__in=list(user_ids))
        if on_shift_only:
            candidate_ids = set(shifts.values_list("user_id", flat=True))
        else:
            candidate_ids = set(user_ids or ())
        index = cls(brand_id, settings, {}, topics, {}, crisis=crisis_scope(brand_id))
        if not candidate_ids:
            return index
        volunteers = list(
            Volunteer.objects.filter(
                brand_id=brand_id, user_id__in=candidate_ids, role__in=DESK_ROLES
            )
            .select_related("user")
            .only(
                "user_id",
                "display_name",
                "languages",
                "skills",
                "store_id",
                "user__username",
                "user__first_name",
                "user__last_name",
                "user__is_active",
            )
        )
        ids = [volunteer.user_id for volunteer in volunteers]
        open_claims = dict(
            Question.objects.filter(claimed_by_id__in=ids, state__in=OPEN_CLAIM_STATES)
            .values("claimed_by_id")
            .annotate(n=Count("pk"))
            .values_list("claimed_by_id", "n")
        )
        gates = _gates(brand_id, volunteers, now, fresh=fresh_gate)
        index.load_regions({v.store_id for v in volunteers if v.store_id is not None})
        for volunteer in volunteers:
            count = open_claims.get(volunteer.user_id, 0)
            index.add(_person(volunteer, index, count, gates[volunteer.user_id]))
        return index

    @classmethod
    def for_person(
        cls,
        brand_id: int,
        user: Any,
        settings: RoutingSettings,
        topic: Topic | None,
        *,
        now: datetime,
    ) -> EligibilityIndex:
        """An index of one person, for a claim: three reads and the gate, asked afresh."""
        index = cls(
            brand_id,
            settings,
            {},
            {topic.pk: topic} if topic is not None else {},
            {},
            crisis=crisis_scope(brand_id),
        )
        volunteer = (
            Volunteer.objects.filter(user_id=user.pk, brand_id=brand_id, role__in=DESK_ROLES)
            .select_related("store")
            .annotate(
                on_shift=Exists(
                    Shift.objects.filter(
                        user_id=OuterRef("user_id"), brand_id=brand_id, ended_at__isnull=True
                    )
                ),
            )
            .first()
        )
        if volunteer is None or not volunteer.on_shift:
            return index
        volunteer.user = user
        if volunteer.store is not None:
            index.store_regions[volunteer.store.pk] = volunteer.store.region
        open_claims = Question.objects.filter(
            claimed_by_id=user.pk, state__in=OPEN_CLAIM_STATES
        ).count()
        index.add(_person(volunteer, index, open_claims, _ask_gate(volunteer, brand_id, now)))
        return index

    def load_regions(self, store_ids: Collection[int]) -> None:
        missing = [pk for pk in store_ids if pk not in self.store_regions]
        if missing:
            found = dict(Store.objects.filter(pk__in=missing).values_list("pk", "region"))
            self.store_regions.update({pk: found.get(pk, "") for pk in missing})

    def region_of(self, store_id: int | None) -> str:
        if store_id is None:
            return ""
        if store_id not in self.store_regions:
            self.load_regions([store_id])
        return self.store_regions[store_id]

    def add(self, person: Person) -> None:
        self.people[person.user_id] = person
        for language in person.languages:
            self.by_language.setdefault(language, set()).add(person.user_id)
        for skill in person.skills:
            self.by_skill.setdefault(skill, set()).add(person.user_id)
        if person.gate_allowed and person.open_claims < self.settings.max_open_claims:
            self.available.add(person.user_id)
        if person.crisis_cleared:
            self.crisis_cleared.add(person.user_id)

    def count_claim(self, user_id: int, delta: int = 1) -> None:
        """Keep the index right within a batch after it placed or claimed something."""
        person = self.people.get(user_id)
        if person is None:
            return
        person.open_claims += delta
        if person.gate_allowed and person.open_claims < self.settings.max_open_claims:
            self.available.add(user_id)
        else:
            self.available.discard(user_id)

    def topic_of(self, question: Question) -> Topic | None:
        return self.topics.get(question.topic_id) if question.topic_id else None

    def eligible_for(self, question: Question) -> list[int]:
        """User ids of the people on shift who may take ``question``, ascending. For a local
        topic, people of the customer's store come first: when there are any, only they."""
        candidates = self.available
        if self.crisis.covers(question.topic_id):
            candidates = candidates & self.crisis_cleared
        language = primary_language(question.lang)
        if language:
            candidates = candidates & self.by_language.get(language, set())
        topic = self.topic_of(question)
        if topic is not None:
            candidates = candidates & self.by_skill.get(topic.slug, set())
        if topic is not None and topic.is_local and question.store_id is not None:
            same_store = {
                uid for uid in candidates if self.people[uid].store_id == question.store_id
            }
            if same_store:
                return sorted(same_store)
            region = self.region_of(question.store_id)
            if not region:
                return []
            return sorted(uid for uid in candidates if self.people[uid].region == region)
        return sorted(candidates)

    def may_take_under_crisis(self, user_id: int, question: Question) -> bool:
        """False only when a crisis covers ``question`` and the person is below its levels."""
        return not self.crisis.covers(question.topic_id) or user_id in self.crisis_cleared

    def is_eligible(self, user_id: int, question: Question) -> tuple[bool, list[str]]:
        """Whether this person may take ``question``, and every reason why not."""
        person = self.people.get(user_id)
        if person is None:
            return False, ["not_on_shift"]
        reasons: list[str] = []
        if not person.gate_allowed:
            reasons.extend(person.gate_codes or ("gate_refused",))
        if person.open_claims >= self.settings.max_open_claims:
            reasons.append("too_many_claims")
        if not self.may_take_under_crisis(user_id, question):
            reasons.append("crisis_mode")
        language = primary_language(question.lang)
        if language and language not in person.languages:
            reasons.append("language")
        topic = self.topic_of(question)
        if topic is not None and topic.slug not in person.skills:
            reasons.append("skill")
        if (
            topic is not None
            and topic.is_local
            and question.store_id is not None
            and person.store_id != question.store_id
        ):
            region = self.region_of(question.store_id)
            if not region or person.region != region:
                reasons.append("not_local")
        return not reasons, reasons


def _person(
    volunteer: Volunteer,
    index: EligibilityIndex,
    open_claims: int,
    gate: GateAnswer,
) -> Person:
    allowed, codes, level = gate
    languages = frozenset(
        primary_language(str(tag)) for tag in (volunteer.languages or DEFAULT_LANGUAGES)
    ) - {""} or frozenset(DEFAULT_LANGUAGES)
    return Person(
        user_id=volunteer.user_id,
        display=person_name(volunteer.user, volunteer),
        languages=languages,
        skills=frozenset(str(skill) for skill in volunteer.skills or ()),
        store_id=volunteer.store_id,
        region=index.region_of(volunteer.store_id),
        open_claims=open_claims,
        gate_allowed=allowed,
        gate_codes=codes,
        crisis_cleared=clears_crisis(level),
    )


def _primary_sql(expression: str) -> str:
    """:func:`primary_language` of a text ``expression`` in SQL (before the check against
    ``ANY_LANGUAGE``): trimmed, lower case, ``_`` read as ``-``, the part before the first
    ``-``."""
    cleaned = f"REPLACE(TRIM({expression}), '_', '-')"
    if connection.vendor == "postgresql":
        return f"LOWER(SPLIT_PART({cleaned}, '-', 1))"
    return f"LOWER(SUBSTR({cleaned}, 1, INSTR({cleaned} || '-', '-') - 1))"


def _json_texts_sql(column: str, alias: str) -> str:
    """A FROM item giving the text of each element of the JSON list in ``column`` as
    ``<alias>.value`` (none when it is not a list)."""
    if connection.vendor == "postgresql":
        return (
            f"JSONB_ARRAY_ELEMENTS_TEXT(CASE WHEN JSONB_TYPEOF({column}) = 'array' "
            f"THEN {column} ELSE '[]'::jsonb END) AS {alias}(value)"
        )
    return f"JSON_EACH(CASE WHEN JSON_TYPE({column}) = 'array' THEN {column} ELSE '[]' END) {alias}"


def claim_eligibility_sql(
    user_id: int, question_table: str, now: datetime
) -> tuple[str, list[Any]]:
    """Everything :meth:`EligibilityIndex.is_eligible` checks for one person, as an SQL
    condition on the question row of ``question_table`` (a quoted table name or alias),
    so the claim's conditional update decides and takes in one statement: a desk role in
    the question's brand, an open shift, the charter's gate (:func:`may_claim_sql`), open
    claims under the brand's cap, crisis mode (certified and mentors only), the language,
    the topic's skill and, for a local topic, the customer's store or its region.

    ``tests/routing/test_claim_sql.py`` and ``tests/properties/test_claim_sql.py`` hold it
    to the index's answers, refusal by refusal
    and on generated people and questions. Returns the SQL (``%s`` placeholders) and its
    parameters, in order."""
    q = question_table
    undetermined = sorted(ANY_LANGUAGE)
    und_list = ", ".join(["%s"] * len(undetermined))
    question_language = _primary_sql(f"{q}.lang")
    tag = _primary_sql("lang_tag.value")
    roles = sorted(str(role) for role in DESK_ROLES)
    gate_sql, gate_params = may_claim_sql(user_id, f"{q}.brand_id", now)
    cleared_sql, cleared_params = clears_crisis_sql(user_id, f"{q}.brand_id")
    default_cap = RoutingSettings._meta.get_field("max_open_claims").get_default()
    open_states = [str(state) for state in OPEN_CLAIM_STATES]
    sql = f"""(
        EXISTS (
            SELECT 1 FROM helpdesk_volunteer elig_v
            WHERE elig_v.user_id = %s AND elig_v.brand_id = {q}.brand_id
              AND elig_v.role IN ({", ".join(["%s"] * len(roles))})
              AND (
                {question_language} IN ({und_list})
                OR EXISTS (
                    SELECT 1 FROM {_json_texts_sql("elig_v.languages", "lang_tag")}
                    WHERE {tag} = {question_language}
                )
                OR ({question_language} = %s AND NOT EXISTS (
                    SELECT 1 FROM {_json_texts_sql("elig_v.languages", "lang_tag")}
                    WHERE {tag} NOT IN ({und_list})
                ))
              )
              AND ({q}.topic_id IS NULL OR EXISTS (
                SELECT 1 FROM routing_topic elig_t
                WHERE elig_t.id = {q}.topic_id
                  AND EXISTS (
                    SELECT 1 FROM {_json_texts_sql("elig_v.skills", "skill")}
                    WHERE skill.value = elig_t.slug
                  )
                  AND (
                    NOT elig_t.is_local OR {q}.store_id IS NULL
                    OR elig_v.store_id = {q}.store_id
                    OR EXISTS (
                        SELECT 1 FROM helpdesk_store asked_store, helpdesk_store own_store
                        WHERE asked_store.id = {q}.store_id AND own_store.id = elig_v.store_id
                          AND asked_store.region <> '' AND own_store.region = asked_store.region
                    )
                  )
              ))
        )
        AND EXISTS (
            SELECT 1 FROM routing_shift elig_shift
            WHERE elig_shift.user_id = %s AND elig_shift.brand_id = {q}.brand_id
              AND elig_shift.ended_at IS NULL
        )
        AND ({gate_sql})
        AND (
            SELECT COUNT(*) FROM helpdesk_question held
            WHERE held.claimed_by_id = %s AND held.state IN (%s, %s)
        ) < COALESCE(
            (SELECT cap.max_open_claims FROM routing_routingsettings cap
             WHERE cap.brand_id = {q}.brand_id),
            %s
        )
        AND (
            NOT EXISTS (
                SELECT 1 FROM routing_crisismode crisis
                WHERE crisis.brand_id = {q}.brand_id AND crisis.ended_at IS NULL
                  AND (crisis.topic_id IS NULL OR crisis.topic_id = {q}.topic_id)
            )
            OR {cleared_sql}
        )
    )"""  # noqa: S608 - our tables and SQL; every value is a parameter
    params: list[Any] = [
        user_id,
        *roles,
        *undetermined,
        DEFAULT_LANGUAGES[0],
        *undetermined,
        user_id,
        *gate_params,
        user_id,
        *open_states,
        default_cap,
        *cleared_params,
    ]
    return sql, params


def forget_gate_answers() -> None:
    with _gate_memo_lock:
        _gate_memo.clear()


def _gates(
    brand_id: int, volunteers: Iterable[Volunteer], now: datetime, *, fresh: bool
) -> dict[int, GateAnswer]:
    volunteers = list(volunteers)
    if fresh:
        return {v.user_id: _ask_gate(v, brand_id, now) for v in volunteers}
    ids = [v.user_id for v in volunteers]
    standings = {
        row[0]: row[1:]
        for row in Standing.objects.filter(brand_id=brand_id, user_id__in=ids).values_list(
            "user_id", "level", "is_suspended", "trained_at", "training_expires_at"
        )
    }
    accepted = dict(
        CharterAcceptance.objects.filter(user_id__in=ids, version__brand_id=brand_id)
        .values("user_id")
        .annotate(top=Max("version__number"))
        .values_list("user_id", "top")
    )
    binding = binding_version(brand_id, now)
    binding_number = binding.number if binding is not None else None
    answers: dict[int, GateAnswer] = {}
    for volunteer in volunteers:
        standing = standings.get(volunteer.user_id)
        expires = standing[3] if standing is not None else None
        key = (
            brand_id,
            volunteer.user.is_active,
            standing,
            expires is not None and expires <= now,
            accepted.get(volunteer.user_id),
            binding_number,
        )
        with _gate_memo_lock:
            answer = _gate_memo.get(key)
        if answer is None:
            answer = _ask_gate(volunteer, brand_id, now)
            with _gate_memo_lock:
                if len(_gate_memo) >= _GATE_MEMO_LIMIT:
                    _gate_memo.clear()
                _gate_memo[key] = answer
        answers[volunteer.user_id] = answer
    return answers


def _ask_gate(volunteer: Volunteer, brand_id: int, now: datetime) -> GateAnswer:
    decision = may_claim(volunteer.user, brand_id, now=now)
    return decision.allowed, tuple(decision.codes), decision.level
