"""How the reports page writes its figures: durations in the reader's units, shares as
percentages, a dash for a figure of nothing (triage_core.reports)."""
from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

from triage_core.reports import duration_text

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    return duration_text(seconds, units=(gettext("d"), gettext("h"), gettext("min")))


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value * 100, 1)} %"


@register.filter
def rating(value: float | None) -> str:
    return "—" if value is None else number_format(value, 2)
