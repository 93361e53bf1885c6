"""The training pages' forms: a quiz, a practice answer, a supervisor's grade."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from charter.models import PracticeGrade, QuestionKind, QuizQuestion
from charter.training.practice import (
    FEEDBACK_MAX_LENGTH,
    PRACTICE_ANSWER_MAX_LENGTH,
    PracticeItem,
    practice_item,
)


class QuizForm(forms.Form):
    """One field per question of the attempt: radio buttons for single choice, checkboxes
    for multiple choice."""

    def __init__(self, questions: list[QuizQuestion], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            choices = [(str(index), text) for index, text in enumerate(question.choices)]
            field: forms.Field
            if question.kind == QuestionKind.SINGLE:
                field = forms.ChoiceField(
                    choices=choices,
                    widget=forms.RadioSelect,
                    error_messages={"required": gettext_lazy("Choose an answer.")},
                )
            else:
                field = forms.MultipleChoiceField(
                    choices=choices,
                    widget=forms.CheckboxSelectMultiple,
                    help_text=gettext_lazy("Choose every answer that applies."),
                    error_messages={"required": gettext_lazy("Choose at least one answer.")},
                )
            field.label = question.prompt
            self.fields[self.field_name(question)] = field

    @staticmethod
    def field_name(question: QuizQuestion) -> str:
        return f"q{question.pk}"

    def answers(self) -> dict[str, list[int]]:
        result = {}
        for question in self.questions:
            value = self.cleaned_data[self.field_name(question)]
            chosen = value if isinstance(value, list) else [value]
            result[str(question.pk)] = [int(index) for index in chosen]
        return result

    def bound_questions(self) -> list[tuple[int, forms.BoundField]]:
        return [(n, self[self.field_name(q)]) for n, q in enumerate(self.questions, 1)]


class PracticeForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=20)
    answer = forms.CharField(
        label=gettext_lazy("Your reply"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=PRACTICE_ANSWER_MAX_LENGTH,
        help_text=gettext_lazy("Write it as you would post it. It is never sent to X."),
    )

    def clean_key(self) -> PracticeItem:
        item = practice_item(self.cleaned_data["key"])
        if item is None:
            raise forms.ValidationError(gettext_lazy("That practice question does not exist."))
        return item


class GradeForm(forms.Form):
    grade = forms.ChoiceField(
        label=gettext_lazy("Grade"),
        choices=[
            (PracticeGrade.PASS.value, PracticeGrade.PASS.label),
            (PracticeGrade.FAIL.value, PracticeGrade.FAIL.label),
        ],
        widget=forms.RadioSelect,
    )
    feedback = forms.CharField(
        label=gettext_lazy("Feedback"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=FEEDBACK_MAX_LENGTH,
        help_text=gettext_lazy("Required for a fail: say what needs work."),
    )

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if (
            data
            and data.get("grade") == PracticeGrade.FAIL
            and not data.get("feedback", "").strip()
        ):
            self.add_error("feedback", gettext_lazy("Say what needs work."))
        return data
