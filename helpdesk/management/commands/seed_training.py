"""``manage.py seed_training [--brand SLUG]``: a default training set for brands without one.

Idempotent: a brand that has any training module is left alone, so a second run (or an
admin's own modules) is never overwritten. Each default set has three required modules
with a bank of quiz questions; an attempt draws five, the pass mark is 80% and a failed
attempt waits 60 minutes before a retake.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from charter import events
from charter.models import QuizQuestion, TrainingModule
from helpdesk.management.training_modules import (
    DEFAULT_MODULES,
    PASS_MARK_PERCENT,
    QUESTIONS_PER_ATTEMPT,
    RETAKE_COOLDOWN_MINUTES,
)
from helpdesk.models import Brand


def seed_brand(brand: Brand) -> int:
    """Create the default modules for ``brand`` unless it has modules; how many were made."""
    with transaction.atomic():
        # Lock the brand so two runs at once cannot both see "no modules".
        Brand.objects.select_for_update().get(pk=brand.pk)
        if TrainingModule.objects.filter(brand=brand).exists():
            return 0
        for position, spec in enumerate(DEFAULT_MODULES, 1):
            module = TrainingModule.objects.create(
                brand=brand,
                slug=spec.slug,
                title=spec.title,
                content=spec.content,
                video_url=spec.video_url,
                position=position,
                is_required=True,
                language="",
                pass_mark_percent=PASS_MARK_PERCENT,
                questions_per_attempt=QUESTIONS_PER_ATTEMPT,
                retake_cooldown_minutes=RETAKE_COOLDOWN_MINUTES,
            )
            QuizQuestion.objects.bulk_create(
                QuizQuestion(
                    module=module,
                    prompt=q.prompt,
                    kind=q.kind,
                    choices=list(q.choices),
                    correct=list(q.correct),
                    explanation=q.explanation,
                )
                for q in spec.questions
            )
        events.record(
            "training.modules_seeded",
            subject_id=None,
            brand_id=brand.pk,
            actor_label="system:seed_training",
            data={"modules": [spec.slug for spec in DEFAULT_MODULES]},
        )
    return len(DEFAULT_MODULES)


class Command(BaseCommand):
    help = (
        "Create the default training set (three required modules with quiz banks) for every "
        "brand that has no training modules yet, or only for --brand SLUG. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", metavar="SLUG", help="Only this brand.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options.get("brand")
        brands = Brand.objects.order_by("slug")
        if slug:
            brands = brands.filter(slug=slug)
            if not brands.exists():
                raise CommandError(f"No brand with the slug {slug!r}.")
        for brand in brands:
            made = seed_brand(brand)
            if made:
                self.stdout.write(
                    self.style.SUCCESS(f"{brand.slug}: created {made} training modules.")
                )
            else:
                self.stdout.write(f"{brand.slug}: has training modules already; left alone.")
