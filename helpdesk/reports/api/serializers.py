"""The shapes the reporting API answers with, for its OpenAPI schema. The API returns
``Report.as_json()`` and ``rows.question_rows`` as they are; these serializers describe
them (a test holds the schema to what the endpoints really send)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class DurationsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="How many values the percentiles are over.")
    p50 = serializers.FloatField(allow_null=True, help_text="Seconds; null with no values.")
    p90 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)


class SlaSerializer(serializers.Serializer[Any]):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    pending = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True, help_text="met / (met + breached)")


class FiguresSerializer(serializers.Serializer[Any]):
    received = serializers.IntegerField()
    answered = serializers.IntegerField()
    dismissed = serializers.IntegerField()
    escalated = serializers.IntegerField()
    open = serializers.IntegerField()
    answer_rate = serializers.FloatField(allow_null=True)
    first_response = DurationsSerializer()
    desk_response = DurationsSerializer()
    sla = SlaSerializer()


class GroupSerializer(FiguresSerializer):
    key = serializers.JSONField(
        allow_null=True, help_text="The group's id (store, topic, user) or code; null: none."
    )
    label = serializers.CharField()  # type: ignore[assignment]


class PeriodSerializer(serializers.Serializer[Any]):
    first = serializers.DateField()
    last = serializers.DateField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    granularity = serializers.ChoiceField(choices=["day", "week"])


class PreviousPeriodSerializer(serializers.Serializer[Any]):
    first = serializers.DateField()
    last = serializers.DateField()


class FiltersSerializer(serializers.Serializer[Any]):
    stores = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    region = serializers.CharField(allow_null=True)
    volunteer = serializers.IntegerField(allow_null=True)
    topic = serializers.IntegerField(allow_null=True)
    language = serializers.CharField(allow_null=True)


class SlaPrioritySerializer(SlaSerializer):
    priority = serializers.IntegerField()


class ResolutionSerializer(serializers.Serializer[Any]):
    conversations = serializers.IntegerField()
    resolved = serializers.IntegerField()
    unresolved = serializers.IntegerField()
    time = DurationsSerializer()


class FindingSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    count = serializers.IntegerField()


class ReviewsSerializer(serializers.Serializer[Any]):
    submitted = serializers.IntegerField()
    to_review = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending = serializers.IntegerField()
    edited = serializers.IntegerField()
    approval_rate = serializers.FloatField(allow_null=True)
    time_to_review = DurationsSerializer()
    findings = FindingSerializer(many=True)


class SeriesPointSerializer(serializers.Serializer[Any]):
    start = serializers.DateField()
    received = serializers.IntegerField()
    answered = serializers.IntegerField()
    first_response = DurationsSerializer()


class BucketSerializer(serializers.Serializer[Any]):
    from_seconds = serializers.IntegerField()
    to_seconds = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()


class HeatmapSerializer(serializers.Serializer[Any]):
    weekdays = serializers.ListField(child=serializers.CharField())
    counts = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Seven rows (Monday first) of 24 hours, in the brand's time zone.",
    )


class DismissedSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class VolunteerSerializer(serializers.Serializer[Any]):
    user_id = serializers.IntegerField(
        allow_null=True, help_text="null in an anonymised report: the name is a code."
    )
    name = serializers.CharField()
    store_id = serializers.IntegerField(allow_null=True)
    level = serializers.CharField(allow_blank=True)
    training = serializers.CharField()
    replies_sent = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    shift_hours = serializers.FloatField()
    shift_seconds = serializers.IntegerField()
    first_responses = serializers.IntegerField()


class SpendSliceSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(
        allow_null=True, help_text="The day (ISO date), account id or price category."
    )
    label = serializers.CharField()  # type: ignore[assignment]
    calls = serializers.IntegerField()
    units = serializers.IntegerField(help_text="Posts X billed: returned, created or deleted.")
    usd = serializers.CharField(help_text="Dollars, as a decimal string (micro-dollar exact).")


class SpendSerializer(serializers.Serializer[Any]):
    """The X bill of the period (docs/metrics.md, "The X bill")."""

    calls = serializers.IntegerField()
    usd = serializers.CharField()
    answered = serializers.IntegerField()
    per_answered_usd = serializers.CharField(allow_null=True)
    by_day = SpendSliceSerializer(many=True)
    by_account = SpendSliceSerializer(many=True)
    by_category = SpendSliceSerializer(many=True)


class BudgetSerializer(serializers.Serializer[Any]):
    """This month's X spend against the brand's monthly budget, when the report is made."""

    brand = serializers.CharField()
    month = serializers.DateField()
    today_usd = serializers.CharField()
    month_usd = serializers.CharField()
    budget_usd = serializers.CharField(allow_null=True)
    share = serializers.FloatField(allow_null=True)
    warning = serializers.BooleanField()
    listening_paused = serializers.BooleanField()
    by_account = SpendSliceSerializer(many=True)


class ScopeSerializer(serializers.Serializer[Any]):
    """What a report covers (``helpdesk.reports.report.scope_json``)."""

    brand = serializers.CharField()
    time_zone = serializers.CharField()
    period = PeriodSerializer()
    previous_period = PreviousPeriodSerializer()
    filters = FiltersSerializer()
    business_time = serializers.BooleanField()


class SummarySerializer(ScopeSerializer):
    summary = FiguresSerializer()
    previous = FiguresSerializer()


class ReportSerializer(SummarySerializer):
    group_by = serializers.CharField()
    anonymised = serializers.BooleanField()
    groups = GroupSerializer(many=True)
    sla_by_priority = SlaPrioritySerializer(many=True)
    resolution = ResolutionSerializer()
    reviews = ReviewsSerializer()
    series = SeriesPointSerializer(many=True)
    first_response_distribution = BucketSerializer(many=True)
    heatmap = HeatmapSerializer()
    dismissed_by_reason = DismissedSerializer(many=True)
    volunteers = VolunteerSerializer(many=True)
    x_spend = SpendSerializer(
        allow_null=True, help_text="null when a filter narrows the report: the bill is the brand's."
    )
    x_budget = BudgetSerializer(allow_null=True)


class QuestionRowSerializer(serializers.Serializer[Any]):
    question_id = serializers.IntegerField()
    tweet_id = serializers.CharField()
    tweeted_at = serializers.CharField(
        allow_blank=True, help_text="ISO 8601 with the brand's offset; empty if unknown"
    )
    received_at = serializers.CharField()
    first_response_at = serializers.CharField(allow_blank=True)
    first_response_seconds = serializers.FloatField(allow_null=True)
    desk_response_seconds = serializers.FloatField(allow_null=True)
    state = serializers.CharField()
    dismissed_reason = serializers.CharField(allow_blank=True)
    priority = serializers.IntegerField()
    sla_priority = serializers.IntegerField(allow_null=True)
    sla_due_at = serializers.CharField(allow_blank=True)
    sla = serializers.CharField(allow_blank=True, help_text="met, breached, pending or ''")
    topic = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)
    store = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)
    answered_by = serializers.CharField(allow_blank=True)
    review = serializers.CharField(allow_blank=True)
    rejected_replies = serializers.IntegerField()


class QuestionPageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(
        allow_null=True, help_text="The URL of the next page; null on the last."
    )
    results = QuestionRowSerializer(many=True)


class ErrorsSerializer(serializers.Serializer[Any]):
    errors = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


class DetailSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
