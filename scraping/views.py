"""Pages where reviewers see products, listings and probes, and ask for a probe now.

Every page renders whole for a plain request and only the swapped fragment for htmx; every
htmx action is also an ordinary link or form, so the pages work without JavaScript.
"""

import zlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import trigger_client_event

from catalog.filtersets import ProductFilterSet
from catalog.selectors import product_list_with_market
from scraping import selectors
from scraping.models import Probe
from scraping.services import listing_probe

PRODUCTS_PAGE_SIZE = 25
ALREADY_RUNNING = "A probe of this listing is already running."
LISTING_ROW = "scraping/product_detail.html#listing-row"


def render_page(
    request: HttpRequest, template_name: str, context: dict, *, partial: str
) -> HttpResponse:
    """The whole page, or for an htmx request only the partial it swaps in.

    A history restore asks for the whole page; Vary keeps the browser from caching one as the
    other under the same URL.
    """
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template_name = f"{template_name}#{partial}"
    response = render(request, template_name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_safe
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    filterset = ProductFilterSet(request.GET or None, queryset=product_list_with_market())
    products = Paginator(filterset.qs, PRODUCTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "products": products,
        "brands": selectors.brand_choices(),
        "chosen_brand": request.GET.get("brand", ""),
        "q": request.GET.get("q", ""),
    }
    return render_page(request, "scraping/product_list.html", context, partial="product-table")


@require_safe
@login_required
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(selectors.products_with_listings(), pk=product_id)
    context = {"product": product, "next_url": request.get_full_path()}
    return render(request, "scraping/product_detail.html", context)


@require_safe
@login_required
def listing_detail(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(selectors.listing_with_product(), pk=listing_id)
    probes = selectors.listing_probe_history(
        listing_id=listing.pk, page_number=request.GET.get("page")
    )
    context = {
        "listing": listing,
        "product": listing.product,
        "probes": probes,
        "next_url": request.path,
    }
    return render_page(request, "scraping/listing_detail.html", context, partial="probe-history")


@login_required
@require_POST
@permission_required("catalog.change_listing", raise_exception=True)
def probe_now(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(selectors.listing_with_product(), pk=listing_id)
    probe = listing_probe(listing_id=listing.pk, trigger=Probe.Trigger.MANUAL, user=request.user)
    next_url = safe_next(
        request, default=reverse("scraping:product-detail", args=[listing.product_id])
    )
    if request.htmx:
        row = selectors.listings_with_latest_probe().get(pk=listing.pk)
        context = {
            "listing": row,
            "notice": ALREADY_RUNNING if probe is None else "",
            "next_url": next_url,
        }
        response = render(request, LISTING_ROW, context)
        if probe is not None:
            # The listing page refreshes its probe history on this event.
            trigger_client_event(response, "probe-finished", {"listing": listing.pk})
        return response
    if probe is None:
        messages.warning(request, ALREADY_RUNNING)
    else:
        messages.success(
            request, f"Probed {listing.retailer}: {probe.get_status_display().lower()}."
        )
    return redirect(next_url)


def safe_next(request: HttpRequest, *, default: str) -> str:
    """Where the form asked to go back to, if that is a page of this site."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else default


@require_safe
@login_required
def probe_page(request: HttpRequest, probe_id: int) -> HttpResponse:
    """The page a probe read, as a download of plain text: retailer HTML never runs here."""
    stored = get_object_or_404(selectors.probe_page_for_download(), probe_id=probe_id)
    response = HttpResponse(zlib.decompress(stored.body), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="probe-{probe_id}-page.html.txt"'
    response["X-Content-SHA256"] = stored.sha256
    # Belt and braces should a browser render it anyway.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
