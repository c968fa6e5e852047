"""The dashboard's filters, read from the query string: a value that doesn't validate is
ignored rather than answered with an error, so an old bookmark still opens the page."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from alerts import page_selectors

WITHIN = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


class AlertFilterForm(forms.Form):
    show = forms.ChoiceField(choices=[("active", "Active"), ("history", "History")], required=False)
    kind = forms.ChoiceField(choices=page_selectors.KIND_NAMES.items(), required=False)
    brand = forms.SlugField(required=False)
    retailer = forms.SlugField(required=False)
    within = forms.ChoiceField(
        choices=[
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
        ],
        required=False,
    )
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def values(self) -> dict:
        """Every filter: what was asked for where it is valid, the default where not."""
        self.is_valid()
        values = {
            "show": page_selectors.DEFAULT_SHOW,
            "kind": "",
            "brand": "",
            "retailer": "",
            "within": "",
            "since": None,
            "until": None,
        }
        values.update({name: value for name, value in self.cleaned_data.items() if value})
        return values


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def alert_query(values: dict, *, now: datetime) -> dict:
    """The filters as the selectors take them: a quick range and dates both narrow the time,
    and the until date counts whole (up to its midnight)."""
    since = start_of(values["since"]) if values["since"] else None
    if values["within"]:
        recent = now - WITHIN[values["within"]]
        since = max(since, recent) if since else recent
    return {
        "kind": values["kind"],
        "brand": values["brand"],
        "retailer": values["retailer"],
        "since": since,
        "until": start_of(values["until"] + timedelta(days=1)) if values["until"] else None,
    }
