"""Spike alerts: a brand's last hour against what the same hour of the week usually brings.

docs/metrics.md ("Spike alerts") is the contract: the baseline, the rule, its minimum counts
and the cool-down, with the reasons. In short: every minute, for each brand, the questions
received in the last 60 minutes are counted (all, and those that read negative) and
compared with the same 60 minutes of the brand's local week in each of the last
``HISTORY_WEEKS`` weeks. The volume alerts when it is at least ``MIN_VOLUME``, at least
``VOLUME_RATIO`` times the baseline and ``VOLUME_Z`` standard deviations above it; the
negative share when at least ``MIN_NEGATIVE`` questions read negative and their share is
``NEGATIVE_Z`` binomial deviations and ``NEGATIVE_SHARE_LIFT`` above the usual share. One
alert per spike: a brand's alert stays open while the hour stays elevated (at a lower bar,
``*_CONTINUE_Z``) and ends after ``END_AFTER`` without it; only then can another be raised.

:func:`detect_spikes` is the entry point (the Celery beat task calls it every minute; tests
call it with the time they want).
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from helpdesk.audit import record
from helpdesk.events import announce, monitoring_group
from helpdesk.models import Brand, Question
from helpdesk.monitoring.emails import email_spike_alert
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.states import QuestionState
from routing.classify.words import vocabulary
from routing.grouping import key_words

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=60)
HISTORY_WEEKS = 8
MIN_HISTORY_WEEKS = 3  # fewer: the default baseline
# The default baseline (a brand with less history): the brand's own hourly mean over the
# last DEFAULT_LOOKBACK, but never below DEFAULT_HOURLY_VOLUME; DEFAULT_NEGATIVE_SHARE
# weighs in the negative share as DEFAULT_SHARE_WEIGHT questions would.
DEFAULT_HOURLY_VOLUME = 10.0
DEFAULT_LOOKBACK = timedelta(days=7)
DEFAULT_NEGATIVE_SHARE = 0.25
DEFAULT_SHARE_WEIGHT = 20

MIN_VOLUME = 20
VOLUME_RATIO = 1.5
VOLUME_Z = 4.0
VOLUME_CONTINUE_Z = 2.0
MIN_NEGATIVE = 10
NEGATIVE_Z = 4.0
NEGATIVE_SHARE_LIFT = 0.15
NEGATIVE_CONTINUE_Z = 2.0
END_AFTER = timedelta(minutes=60)
RETRY_EMAIL_AFTER = timedelta(minutes=5)

MAD_TO_SD = 1.4826  # the median absolute deviation of a normal sample, scaled to its spread
ALERT_QUESTIONS = 10
COMMON_WORDS = 8
DOMINANT_TOPIC_SHARE = 0.4
EXTRA_STOPWORDS = vocabulary(
    """im ive dont cant didnt doesnt wont get got getting go going make made one like know
    need want still even since ago day days hour hours time times today yesterday back way
    thing things really already ever never every new use using used also well much many
    help please thanks merci bonjour fait faire fais peut peux plus tres bien tout tous
    toujours rien encore depuis deja"""
)


@dataclass(frozen=True)
class Baseline:
    expected_volume: float
    volume_sd: float
    negative_share: float
    weeks: int  # 0: the default


@dataclass(frozen=True)
class HourCounts:
    volume: int
    negative: int


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[str, ...]  # what alerts: "volume", "negative"
    elevated: bool  # at the lower bar that keeps an open spike open


def counted_questions(brand_id: int) -> QuerySet[Question]:
    """The questions a spike counts: every one the brand received, but noise and spam
    dismissed (a spam wave is not customers in trouble)."""
    return Question.objects.filter(brand_id=brand_id).exclude(state=QuestionState.DISMISSED)


def hour_counts(brand_id: int, start: datetime, end: datetime) -> HourCounts:
    """The questions received after ``start`` up to ``end`` (included: what arrived this
    very minute counts)."""
    counts = counted_questions(brand_id).filter(received_at__gt=start, received_at__lte=end)
    totals = counts.aggregate(volume=Count("pk"), negative=Count("pk", filter=Q(is_negative=True)))
    return HourCounts(volume=totals["volume"], negative=totals["negative"])


def windows_counts(brand_id: int, ends: list[datetime]) -> list[HourCounts]:
    """:func:`hour_counts` of the hours ending at each of ``ends``, in one query."""
    if not ends:
        return []
    aggregates = {}
    for n, end in enumerate(ends):
        window = Q(received_at__gt=end - WINDOW, received_at__lte=end)
        aggregates[f"v{n}"] = Count("pk", filter=window)
        aggregates[f"n{n}"] = Count("pk", filter=window & Q(is_negative=True))
    either = Q()
    for end in ends:
        either |= Q(received_at__gt=end - WINDOW, received_at__lte=end)
    totals = counted_questions(brand_id).filter(either).aggregate(**aggregates)
    return [HourCounts(totals[f"v{n}"], totals[f"n{n}"]) for n in range(len(ends))]


def same_hour_weeks_ago(end: datetime, weeks: int, zone: ZoneInfo) -> datetime:
    """``end`` moved back ``weeks`` weeks on the brand's local clock: the same hour of the
    local week, whatever daylight saving did in between."""
    local = end.astimezone(zone).replace(tzinfo=None) - timedelta(weeks=weeks)
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def baseline(brand: Brand, now: datetime) -> Baseline:
    """What the hour ending ``now`` usually brings the brand: learned from the same hour of
    the local week in each of the last ``HISTORY_WEEKS`` weeks the brand had questions in
    (the median and its spread, so one unusual week does not move it), or the default
    before ``MIN_HISTORY_WEEKS`` of them."""
    zone = ZoneInfo(brand.time_zone or "UTC")
    first = (
        counted_questions(brand.pk)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    ends: list[datetime] = []
    for back in range(1, HISTORY_WEEKS + 1):
        end = same_hour_weeks_ago(now, back, zone)
        if first is None or end - WINDOW < first:
            break
        ends.append(end)
    weeks = windows_counts(brand.pk, ends)
    if len(weeks) < MIN_HISTORY_WEEKS:
        return _default_baseline(brand.pk, now, first)
    volumes = [week.volume for week in weeks]
    median = float(statistics.median(volumes))
    mad = float(statistics.median(abs(v - median) for v in volumes))
    expected = max(median, 1.0)
    spread = max(math.sqrt(expected), MAD_TO_SD * mad)
    # The share pooled over the weeks, without the week with the most negative questions:
    # one bad week (last year's outage) does not teach the desk that anger is normal.
    kept = sorted(weeks, key=lambda week: week.negative)[:-1]
    volume = sum(week.volume for week in kept)
    negative = sum(week.negative for week in kept)
    share = (negative + DEFAULT_NEGATIVE_SHARE * DEFAULT_SHARE_WEIGHT) / (
        volume + DEFAULT_SHARE_WEIGHT
    )
    return Baseline(expected, spread, share, len(weeks))


def _default_baseline(brand_id: int, now: datetime, first: datetime | None) -> Baseline:
    since = now - WINDOW - DEFAULT_LOOKBACK
    if first is not None and first > since:
        since = first
    hours = (now - WINDOW - since).total_seconds() / 3600
    earlier = hour_counts(brand_id, since, now - WINDOW) if hours >= 1 else HourCounts(0, 0)
    expected = max(DEFAULT_HOURLY_VOLUME, earlier.volume / hours if hours >= 1 else 0.0)
    share = (earlier.negative + DEFAULT_NEGATIVE_SHARE * DEFAULT_SHARE_WEIGHT) / (
        earlier.volume + DEFAULT_SHARE_WEIGHT
    )
    return Baseline(expected, math.sqrt(expected), share, 0)


def judge(counts: HourCounts, usual: Baseline) -> Verdict:
    """The rule of docs/metrics.md, on one hour's counts."""
    volume_z = (counts.volume - usual.expected_volume) / usual.volume_sd
    share = usual.negative_share
    negative_sd = math.sqrt(max(counts.volume, 1) * share * (1 - share))
    negative_z = (counts.negative - counts.volume * share) / negative_sd
    reasons: list[str] = []
    if (
        counts.volume >= MIN_VOLUME
        and counts.volume >= VOLUME_RATIO * usual.expected_volume
        and volume_z >= VOLUME_Z
    ):
        reasons.append("volume")
    if (
        counts.negative >= MIN_NEGATIVE
        and counts.negative / counts.volume >= share + NEGATIVE_SHARE_LIFT
        and negative_z >= NEGATIVE_Z
    ):
        reasons.append("negative")
    elevated = bool(reasons) or volume_z >= VOLUME_CONTINUE_Z or negative_z >= NEGATIVE_CONTINUE_Z
    return Verdict(tuple(reasons), elevated)


@dataclass(frozen=True)
class SpikeRun:
    detected: list[int]  # the new alerts' ids
    ended: list[int]


def detect_spikes(now: datetime | None = None) -> SpikeRun:
    """Look at every brand's last hour: raise an alert for a new spike (stored once,
    audited, announced on the brand's monitoring group, e-mailed once), keep an open one
    open while the hour stays elevated, and end it after ``END_AFTER`` without."""
    now = now or timezone.now()
    run = SpikeRun([], [])
    for brand in Brand.objects.order_by("pk"):
        try:
            _detect_for_brand(brand, now, run)
        except Exception:  # one brand's trouble must not silence the others
            log.exception("spike detection failed for brand %s", brand.pk)
    # A send that failed earlier: try again (each alert is e-mailed at most once).
    for alert_id in SpikeAlert.objects.filter(
        emailed_at__isnull=True, detected_at__lte=now - RETRY_EMAIL_AFTER
    ).values_list("pk", flat=True):
        _email_after_commit(alert_id)
    return run


def _detect_for_brand(brand: Brand, now: datetime, run: SpikeRun) -> None:
    counts = hour_counts(brand.pk, now - WINDOW, now)
    open_alert = SpikeAlert.objects.filter(brand=brand, ended_at__isnull=True).first()
    if open_alert is None and counts.volume < min(MIN_VOLUME, MIN_NEGATIVE):
        return  # cannot alert: spare the baseline's queries
    usual = baseline(brand, now)
    verdict = judge(counts, usual)
    if open_alert is not None:
        if verdict.elevated:
            SpikeAlert.objects.filter(pk=open_alert.pk).update(last_elevated_at=now)
        elif now - open_alert.last_elevated_at >= END_AFTER:
            _end(open_alert, now)
            run.ended.append(open_alert.pk)
        return
    if verdict.reasons:
        alert = _raise(brand, now, counts, usual, verdict)
        if alert is not None:
            run.detected.append(alert.pk)


def _raise(
    brand: Brand, now: datetime, counts: HourCounts, usual: Baseline, verdict: Verdict
) -> SpikeAlert | None:
    window = list(
        counted_questions(brand.pk)
        .filter(received_at__gt=now - WINDOW, received_at__lte=now)
        .order_by("-is_negative", "-received_at", "-pk")
        .values("pk", "text", "topic_id", "is_negative")
    )
    if "negative" in verdict.reasons and "volume" not in verdict.reasons:
        causing = [row for row in window if row["is_negative"]]
    else:
        causing = window
    topics = Counter(row["topic_id"] for row in causing if row["topic_id"] is not None)
    topic_id, topic_count = topics.most_common(1)[0] if topics else (None, 0)
    if topic_count < DOMINANT_TOPIC_SHARE * len(causing):
        topic_id = None
    try:
        with transaction.atomic():
            alert = SpikeAlert.objects.create(
                brand=brand,
                detected_at=now,
                window_start=now - WINDOW,
                reasons=list(verdict.reasons),
                volume=counts.volume,
                expected_volume=round(usual.expected_volume, 2),
                negative=counts.negative,
                expected_negative_share=round(usual.negative_share, 4),
                baseline_weeks=usual.weeks,
                topic_id=topic_id,
                question_ids=[row["pk"] for row in causing[:ALERT_QUESTIONS]],
                common_words=common_words([row["text"] for row in causing]),
                last_elevated_at=now,
            )
            record(
                "spike.detected",
                actor_label="monitoring",
                brand_id=brand.pk,
                data=alert_payload(alert),
                at=now,
            )
            announce([monitoring_group(brand.pk)], "spike.detected", alert_payload(alert))
            _email_after_commit(alert.pk)
    except IntegrityError:  # another process opened the brand's spike first
        return None
    return alert


def _end(alert: SpikeAlert, now: datetime) -> None:
    with transaction.atomic():
        ended = SpikeAlert.objects.filter(pk=alert.pk, ended_at__isnull=True).update(ended_at=now)
        if ended:
            record(
                "spike.ended",
                actor_label="monitoring",
                brand_id=alert.brand_id,
                data={"alert_id": alert.pk, "detected_at": alert.detected_at.isoformat()},
                at=now,
            )
            announce(
                [monitoring_group(alert.brand_id)],
                "spike.ended",
                {"alert_id": alert.pk, "brand_id": alert.brand_id},
            )


def _email_after_commit(alert_id: int) -> None:
    # Sent by the detector's own worker once the alert is committed (the detector is itself a
    # Celery task; a second hop would add nothing). robust: a mail server that is down must
    # not stop the detection, and the next run tries again.
    transaction.on_commit(lambda: email_spike_alert(alert_id), robust=True)


def alert_payload(alert: SpikeAlert) -> dict[str, object]:
    """The alert as plain JSON: the live event's payload and the audit row's data."""
    return {
        "alert_id": alert.pk,
        "brand_id": alert.brand_id,
        "topic_id": alert.topic_id,
        "detected_at": alert.detected_at.isoformat(),
        "reasons": list(alert.reasons),
        "volume": alert.volume,
        "expected_volume": alert.expected_volume,
        "negative": alert.negative,
        "expected_negative_share": alert.expected_negative_share,
        "baseline_weeks": alert.baseline_weeks,
        "question_ids": list(alert.question_ids),
        "common_words": list(alert.common_words),
    }


def common_words(texts: list[str], limit: int = COMMON_WORDS) -> list[list[object]]:
    """The words most of ``texts`` share, as ``[word, how many texts]``, most frequent
    first (then alphabetically): folded, without mentions, links, numbers and English and
    French stopwords; a word must appear in at least two texts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            word
            for word in key_words(text)
            if len(word) >= 3 and not word.isdigit() and word not in EXTRA_STOPWORDS
        )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [[word, n] for word, n in ranked if n >= 2][:limit]
