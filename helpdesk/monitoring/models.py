"""Monitoring's own rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Brand


class SpikeAlert(models.Model):
    """One spike of a brand's questions: their volume, or the share that read negative, well
    above what the same hour of the week usually brings (docs/metrics.md, "Spike alerts").

    A brand has at most one open spike (``ended_at`` empty); while it stays open no second
    alert is raised, which is what makes the alert and its e-mail once per spike. Crisis mode
    links to it by ``brand`` and ``topic`` (the dominant topic of the questions that caused
    it, if one stands out)."""

    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="spike_alerts", db_index=False
    )
    detected_at = models.DateTimeField()
    window_start = models.DateTimeField()
    reasons = models.JSONField(default=list)  # "volume", "negative"
    volume = models.PositiveIntegerField()
    expected_volume = models.FloatField()
    negative = models.PositiveIntegerField()
    expected_negative_share = models.FloatField()
    # Weeks of history the baseline was learned from; 0: the default baseline.
    baseline_weeks = models.PositiveSmallIntegerField()
    topic = models.ForeignKey(
        "routing.Topic", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    question_ids = models.JSONField(default=list)
    common_words = models.JSONField(default=list)
    last_elevated_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("spike alert")
        verbose_name_plural = _("spike alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["brand"],
                condition=models.Q(ended_at__isnull=True),
                name="spike_alert_one_open_per_brand",
            )
        ]
        indexes = [models.Index(fields=["brand", "detected_at"], name="spike_alert_brand_time")]

    def __str__(self) -> str:
        return f"{self.brand_id} spike at {self.detected_at:%Y-%m-%d %H:%M}"
