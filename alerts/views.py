"""The alerts dashboard: what the rules raised, filtered and resolved by the people who look.

Like the other pages it renders whole for a plain request and only its table for htmx
(`scraping.views.render_page` decides), and every htmx action is also a plain link or form.
Resolving goes through `alerts.resolution` and needs "change alert"; rules and channels are
configured in the admin.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from alerts import page_selectors
from alerts.forms import AlertFilterForm, alert_query
from alerts.models import Alert
from alerts.resolution import alerts_resolve
from scraping.views import render_page, safe_next

RESOLVE = "alerts.change_alert"
DASHBOARD_PAGE_SIZE = 50
ALERT_ROW = "alerts/dashboard.html#alert-row"
ALREADY_RESOLVED = "Someone had already resolved this alert."


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    filters = AlertFilterForm(request.GET).values()
    query = alert_query(filters, now=timezone.now())
    alerts = page_selectors.dashboard_page(show=filters["show"], **query)
    page = Paginator(alerts, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    # The summary counts every kind, whichever one the table shows.
    counts = page_selectors.active_counts_by_kind(**{**query, "kind": ""})
    context = {
        "page": page,
        "rows": page_selectors.dashboard_rows(page),
        "filters": filters,
        "filtered": any(filters[name] for name in filters if name != "show"),
        "counts": counts,
        "active_total": sum(count.count for count in counts),
        "choices": page_selectors.dashboard_choices(),
        "shows": [("active", "Active"), ("history", "History")],
        "withins": [
            ("", "Any time"),
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
        ],
        "next_url": request.get_full_path(),
    }
    return render_page(request, "alerts/dashboard.html", context, partial="alert-table")


@login_required
@require_POST
@permission_required(RESOLVE, raise_exception=True)
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Resolve one; htmx gets the row in its resolved state, a plain post goes back."""
    alert = get_object_or_404(Alert.objects.only("pk", "title"), pk=alert_id)
    resolved = alerts_resolve(alert_ids=[alert.pk], user=request.user)
    next_url = safe_next(request, default=reverse("alerts:dashboard"))
    if request.htmx:
        row = page_selectors.dashboard_row(page_selectors.dashboard_alert(alert_id=alert.pk))
        notice = "" if resolved else ALREADY_RESOLVED
        return render(request, ALERT_ROW, {"row": row, "notice": notice, "next_url": next_url})
    if resolved:
        messages.success(request, f"Resolved “{alert.title}”.")
    else:
        messages.info(request, f"“{alert.title}”: {ALREADY_RESOLVED.lower()}")
    return redirect(next_url)


@login_required
@require_POST
@permission_required(RESOLVE, raise_exception=True)
def alerts_resolve_many(request: HttpRequest) -> HttpResponse:
    """The bulk form: resolve every ticked alert, then back to the list (for htmx too: it
    follows the redirect and swaps in the table with the message)."""
    next_url = safe_next(request, default=reverse("alerts:dashboard"))
    ids = {int(value) for value in request.POST.getlist("ids") if value.isdigit()}
    if not ids:
        messages.warning(request, "Tick at least one alert first.")
        return redirect(next_url)
    resolved = alerts_resolve(alert_ids=ids, user=request.user)
    if resolved:
        messages.success(request, f"Resolved {resolved} alert{'s' if resolved != 1 else ''}.")
    if skipped := len(ids) - resolved:
        messages.info(
            request,
            f"{skipped} of the ticked alerts {'was' if skipped == 1 else 'were'} already resolved.",
        )
    return redirect(next_url)
