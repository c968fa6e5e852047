"""The market dashboard at /market/, through Django's test client, against numbers worked out
by hand on a small catalog.

Prices arrive as real Probe rows through scraping's `price_point_record()` (which also updates
the listing, as a probe does); their times are then moved into the past to make a history. The
page reads the rollups that `market_rollups_refresh()` keeps, so the fixtures refresh them after
building the market; the live queries (`pricing.market.selectors`) are the reference the rollups
are held to.
"""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Listing, Retailer
from pricing.market import rollups, selectors
from pricing.market.filters import market_filters
from pricing.market.services import market_rollups_refresh
from pricing.models import (
    MapViolation,
    MarketMove,
    MarketProbeDay,
    MarketRefresh,
    MarketTrendDay,
)
from scraping.models import Probe
from scraping.services import price_point_record
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

URL = "/market/"


# --- Building the market ---------------------------------------------------------------------


def product(reference: str, list_price: str | None, *, brand: str = "Omega", category="diver"):
    return ProductFactory(
        brand=BrandFactory(name=brand, slug=brand.lower()),
        reference=reference,
        name=f"Watch {reference}",
        category=category,
        list_price=Decimal(list_price) if list_price else None,
    )


def shop(name: str, *, vendor: bool = False) -> Retailer:
    kind = Retailer.RetailerType.VENDOR if vendor else Retailer.RetailerType.MARKETPLACE
    return RetailerFactory(name=name, retailer_type=kind)


def listing(item, retailer: Retailer) -> Listing:
    return ListingFactory(product=item, retailer=retailer)


def observe(at: Listing, *history: tuple[float, str], available: bool = True) -> list[Probe]:
    """Successful probes at (days ago, price), oldest first; the listing keeps the last one."""
    now = timezone.now()
    probes = []
    for days_ago, price in history:
        probe = price_point_record(
            listing=at, price=Decimal(price), currency="USD", available=available
        )
        when = now - timedelta(days=days_ago)
        Probe.objects.filter(pk=probe.pk).update(created_at=when)
        Listing.objects.filter(pk=at.pk).update(last_success_at=when, last_probed_at=when)
        probes.append(probe)
    return probes


def build_market() -> dict:
    """Omega (diver):
        D1 list 1,000: 900, 1,000, 1,100          -> within, index 100, gap 0
        D2 list   800: 900, 1,000                 -> cheapest, median 950, gap -15.8
        D3 list 1,500: 1,000, 1,200 (+ a stale 2,000 and an out-of-stock 3,000)
                                                  -> above, median 1,100, gap +36.4
        D4 list 1,000: nothing                    -> no market data
        D5 no list price
    Rolex (sports):
        S1 list 2,000: 2,000, 2,000               -> cheapest (tied), index 100
    """
    a, b, c, d = shop("Chrono Plaza"), shop("Watch Hub"), shop("Time Bazaar"), shop("Hour Mart")
    d1, d2, d3 = product("D1", "1000"), product("D2", "800"), product("D3", "1500")
    d4, d5 = product("D4", "1000"), product("D5", None)
    s1 = product("S1", "2000", brand="Rolex", category="sports")
    listings = {
        # D1 at Chrono Plaza fell 1,000 -> 950 -> 900; at Watch Hub rose 800 -> 1,000.
        "d1a": observe(listing(d1, a), (10, "1000"), (5, "950"), (0, "900")),
        "d1b": observe(listing(d1, b), (5, "800"), (0, "1000")),
        "d1c": observe(listing(d1, c), (0, "1100")),
        "d2a": observe(listing(d2, a), (3, "900"), (0, "900")),
        "d2b": observe(listing(d2, b), (1, "1000")),
        "d3a": observe(listing(d3, a), (1, "1000")),
        "d3b": observe(listing(d3, b), (1, "1200")),
        "d3c": observe(listing(d3, c), (5, "2000")),  # 5 days old: stale
        "d3d": observe(listing(d3, d), (0, "3000"), available=False),
        "d5a": observe(listing(d5, a), (0, "500")),
        # S1 at Chrono Plaza fell 2,200 -> 2,000; Watch Hub 2,000 two days ago.
        "s1a": observe(listing(s1, a), (2, "2200"), (0, "2000")),
        "s1b": observe(listing(s1, b), (2, "2000")),
    }
    return {"products": {p.reference: p for p in (d1, d2, d3, d4, d5, s1)}, "probes": listings}


@pytest.fixture
def market(db):
    built = build_market()
    market_rollups_refresh()
    return built


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def context(client, user, **params):
    return page(client, user, **params).context


# --- Access and filters ----------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_it_reads_presets_and_custom_ranges_and_names_a_bad_date():
    today = date(2026, 3, 10)

    assert market_filters({}, today=today).start == date(2026, 3, 4)
    thirty = market_filters({"period": "30"}, today=today)
    assert (thirty.start, thirty.end, thirty.days) == (date(2026, 2, 9), today, 30)
    custom = market_filters(
        {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}, today=today
    )
    assert (custom.start, custom.end, custom.errors) == (date(2026, 1, 1), date(2026, 1, 31), ())
    bad = market_filters(
        {"period": "custom", "from": "2026-13-01", "to": "2026-01-31"}, today=today
    )
    assert bad.errors == ("From: '2026-13-01' is not a date (YYYY-MM-DD).",)
    assert (bad.period, bad.start) == ("7", date(2026, 3, 4))
    backwards = market_filters(
        {"period": "custom", "from": "2026-02-01", "to": "2026-01-01"}, today=today
    )
    assert backwards.errors == ("To: the range must end on or after its first day.",)
    future = market_filters(
        {"period": "custom", "from": "9999-12-30", "to": "9999-12-31"}, today=today
    )
    assert future.errors == ("To: the range must end by today (2026-03-10, UTC).",)
    assert (future.start, future.end) == (date(2026, 3, 4), today)


def test_it_shows_a_bad_date_as_an_error_and_the_default_range(client, user, market):
    response = page(client, user, period="custom", **{"from": "soon", "to": "2026-01-01"})

    assert "From: &#x27;soon&#x27; is not a date (YYYY-MM-DD)." in response.content.decode()
    assert response.context["filters"].days == 7


def test_a_far_future_range_is_an_error_not_a_crash(client, user, market):
    response = page(client, user, period="custom", **{"from": "9999-12-30", "to": "9999-12-31"})

    assert response.status_code == 200
    assert "To: the range must end by today" in response.content.decode()


# --- Where we stand --------------------------------------------------------------------------


def test_it_counts_where_our_prices_stand_against_fresh_competitor_prices(client, user, market):
    standing = context(client, user)["standing"]

    assert standing.products == 6
    assert standing.without_price == 1
    assert (standing.cheapest, standing.within, standing.above, standing.no_market) == (2, 1, 1, 1)
    # (100 + 800/950 + 1500/1100 + 100) / 4 in percent
    assert standing.index == Decimal("105.1")


def test_it_lists_the_largest_gaps_to_the_median_with_links_to_the_products(client, user, market):
    response = page(client, user)
    gaps = response.context["standing"].gaps

    assert [gap.reference for gap in gaps] == ["D3", "D2", "D1", "S1"]
    d3 = gaps[0]
    assert (d3.lowest, d3.median, d3.highest, d3.competitors) == (
        Decimal("1000.00"),
        Decimal("1100.00"),
        Decimal("1200.00"),
        2,
    )
    assert (d3.gap_percent, gaps[1].gap_percent, gaps[1].median) == (
        Decimal("36.4"),
        Decimal("-15.8"),
        Decimal("950.00"),
    )
    assert f'href="/products/{d3.product_id}/"' in response.content.decode()


def test_a_brand_filter_changes_the_standing(client, user, market):
    omega = context(client, user, brand="omega")["standing"]
    rolex = context(client, user, brand="rolex")["standing"]
    sports = context(client, user, category="sports")["standing"]

    assert (omega.cheapest, omega.within, omega.above, omega.no_market) == (1, 1, 1, 1)
    assert omega.index == Decimal("106.9")
    assert (rolex.products, rolex.cheapest, rolex.index) == (1, 1, Decimal("100.0"))
    assert [gap.reference for gap in sports.gaps] == ["S1"]


# --- Movers ----------------------------------------------------------------------------------


def test_it_finds_the_biggest_movers_between_the_first_and_last_price_in_the_range(
    client, user, market
):
    week = context(client, user)["movers"]
    month = context(client, user, period="30")["movers"]
    rolex = context(client, user, brand="rolex")["movers"]

    assert [(m.reference, m.retailer, m.change_percent) for m in week.up] == [
        ("D1", "Watch Hub", Decimal("25.0"))
    ]
    assert [(m.reference, m.retailer, m.change_percent) for m in week.down] == [
        ("S1", "Chrono Plaza", Decimal("-9.1")),
        ("D1", "Chrono Plaza", Decimal("-5.3")),
    ]
    # The 1,000 ten days ago starts D1's fall at Chrono Plaza in a 30-day range.
    assert [(m.reference, m.first_price, m.change_percent) for m in month.down] == [
        ("D1", Decimal("1000.00"), Decimal("-10.0")),
        ("S1", Decimal("2200.00"), Decimal("-9.1")),
    ]
    assert (len(rolex.up), [m.reference for m in rolex.down]) == (0, ["S1"])


def test_a_listing_whose_currency_changed_only_moves_within_its_current_currency(client, user, db):
    at = listing(product("C1", "1000"), shop("Euro Shop"))
    observe(at, (3, "1000"))  # USD
    euro = price_point_record(listing=at, price=Decimal("900"), currency="EUR", available=True)
    assert Listing.objects.get(pk=at.pk).currency == "EUR"
    Probe.objects.filter(pk=euro.pk).update(created_at=timezone.now() - timedelta(days=1))
    market_rollups_refresh()

    movers = context(client, user)["movers"]

    # 1,000 USD then 900 EUR is not a 10% fall; one EUR price alone is no move.
    assert (movers.up, movers.down) == ((), ())


# --- MAP violations --------------------------------------------------------------------------


def episode(at: Listing, *, opened_days_ago: float, closed_days_ago: float | None = None):
    now = timezone.now()
    probe = Probe.objects.create(listing=at, status="success", price=Decimal("1"), url="https://x")
    return MapViolation.objects.create(
        listing=at,
        map_price=Decimal("8000"),
        currency="USD",
        opened_at=now - timedelta(days=opened_days_ago),
        closed_at=None if closed_days_ago is None else now - timedelta(days=closed_days_ago),
        lowest_price=Decimal("7000"),
        last_price=Decimal("7000"),
        opening_probe=probe,
    )


def test_it_ranks_retailers_by_their_share_of_listings_in_map_violation(client, user, db):
    boutique, dealer = shop("Boutique", vendor=True), shop("Dealer", vendor=True)
    items = [product(f"M{n}", "1000") for n in range(4)]
    at_boutique = [listing(item, boutique) for item in items[:2]]
    at_dealer = [listing(item, dealer) for item in items]
    episode(at_boutique[0], opened_days_ago=20, closed_days_ago=10)
    episode(at_boutique[0], opened_days_ago=2)
    episode(at_dealer[1], opened_days_ago=3, closed_days_ago=1)
    episode(at_dealer[2], opened_days_ago=40, closed_days_ago=35)
    market_rollups_refresh()

    week = context(client, user)["violations"]
    month = context(client, user, period="30")["violations"]

    assert [
        (r.retailer, r.episodes, r.listings_in_violation, r.listings, r.listing_share) for r in week
    ] == [("Boutique", 1, 1, 2, Decimal("50.0")), ("Dealer", 1, 1, 4, Decimal("25.0"))]
    assert [(r.retailer, r.episodes, r.share_of_episodes) for r in month] == [
        ("Boutique", 2, Decimal("66.7")),
        ("Dealer", 1, Decimal("33.3")),
    ]


def test_a_withdrawn_listing_does_not_count_in_the_share_it_is_no_longer_part_of(client, user, db):
    dealer = shop("Dealer", vendor=True)
    kept, *withdrawn = [listing(product(f"W{n}", "1000"), dealer) for n in range(3)]
    for at in withdrawn:
        episode(at, opened_days_ago=3, closed_days_ago=1)
    Listing.objects.filter(pk__in=[at.pk for at in withdrawn]).update(active=False)
    episode(kept, opened_days_ago=2)
    market_rollups_refresh()

    [dealer_row] = context(client, user)["violations"]
    [live_row] = selectors.map_violation_shares(
        scope=selectors.Scope(),
        starts_at=timezone.now() - timedelta(days=7),
        ends_before=timezone.now() + timedelta(days=1),
    )

    for row in (dealer_row, live_row):
        assert (row.episodes, row.listings_in_violation, row.listings) == (3, 1, 1)
        assert row.listing_share == Decimal("100.0")


# --- Probe health ----------------------------------------------------------------------------


def probe(at: Listing, status: str, *, days_ago: float = 0):
    made = Probe.objects.create(listing=at, status=status, url="https://shop.example.com/x")
    Probe.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


def test_it_counts_probe_outcomes_per_retailer_in_the_range(client, user, db):
    a, b = shop("Alpha"), shop("Beta")
    item = product("H1", "1000")
    at_a, at_b = listing(item, a), listing(item, b)
    for status in ["success"] * 6 + ["blocked", "identity_mismatch"]:
        probe(at_a, status)
    probe(at_a, "blocked", days_ago=20)  # outside the week
    for status in ["failed", "not_found", "no_price", "price_hidden", "pending"]:
        probe(at_b, status)
    market_rollups_refresh()

    week = {row.retailer: row for row in context(client, user)["health"]}
    month = {row.retailer: row for row in context(client, user, period="30")["health"]}

    alpha, beta = week["Alpha"], week["Beta"]
    assert (alpha.total, alpha.counts) == (8, {"success": 6, "blocked": 1, "mismatch": 1})
    assert (alpha.rate("success"), alpha.rate("blocked")) == (Decimal("75.0"), Decimal("12.5"))
    # Pending probes have not ended: not counted.
    assert (beta.total, beta.counts) == (4, {"failed": 2, "no_price": 2})
    assert month["Alpha"].counts["blocked"] == 2


# --- Trend -----------------------------------------------------------------------------------


def test_it_draws_the_daily_mean_market_index_with_its_numbers_beside_it(client, user, market):
    response = page(client, user, brand="rolex")
    today = timezone.now().date()

    trend = [(day.day, day.index, day.observations) for day in response.context["trend"]]
    assert trend == [
        (today - timedelta(days=2), Decimal("105.0"), 2),  # (2,200 + 2,000) / 2 of 2,000
        (today, Decimal("100.0"), 1),
    ]
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="price-chart"' in html
    assert 'data-series="Market price index (daily mean)" data-index="0" data-points="2"' in html
    assert 'data-level="Our price" data-value="100"' in html
    assert f'<td>{today:%Y-%m-%d}</td><td class="num">100.0</td>' in html


# --- htmx and queries ------------------------------------------------------------------------


def test_an_htmx_request_gets_only_the_sections(client, user, market):
    client.force_login(user)

    response = client.get(URL, {"brand": "rolex"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="market-sections"')
    assert "<html" not in html and 'id="market-filters"' not in html
    assert 'data-scope="Rolex"' in html
    assert response["Vary"] == "HX-Request, Cookie" or "HX-Request" in response["Vary"]


def test_the_page_reads_a_fixed_number_of_queries_however_big_the_catalog(
    client, user, market, django_assert_max_num_queries
):
    client.force_login(user)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    shops = [shop(f"Extra {n}") for n in range(3)]
    for n in range(20):
        item = product(f"X{n}", "1000", brand=f"Brand {n % 4}", category=f"cat{n % 3}")
        for retailer in shops:
            observe(listing(item, retailer), (4, "990"), (0, "1010"))
    market_rollups_refresh()

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL, {"period": "30"})

    assert response.context["standing"].products == 26


# --- Rollups: exact as of the refresh ------------------------------------------------------


def live_sections(scope, asked):
    window = {"scope": scope, "starts_at": asked.starts_at, "ends_before": asked.ends_before}
    max_age = timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)
    now = timezone.now()
    return {
        "standing": selectors.market_standing(scope=scope, now=now, max_age=max_age),
        "movers": selectors.market_movers(**window),
        "health": selectors.probe_health(**window),
        "trend": selectors.market_trend(**window),
        "violations": selectors.map_violation_shares(**window),
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"period": "30"},
        {"period": "90"},
        {"period": "custom"},
    ],
)
def test_the_rollups_give_the_live_queries_numbers_for_every_scope(market, query):
    omega, rolex = market["products"]["D1"].brand_id, market["products"]["S1"].brand_id
    episode(market["probes"]["d1a"][0].listing, opened_days_ago=2)
    episode(market["probes"]["s1a"][0].listing, opened_days_ago=20, closed_days_ago=10)
    episode(market["probes"]["d3b"][0].listing, opened_days_ago=40, closed_days_ago=35)
    market_rollups_refresh()  # episode() records a probe, which the rollups see only now
    today = timezone.now().date()
    if query.get("period") == "custom":  # a year at most, ending today
        query = {**query, "from": str(today - timedelta(days=365)), "to": str(today)}
    asked = market_filters(query, today=today)
    scopes = [
        selectors.Scope(),
        selectors.Scope(brand_id=omega),
        selectors.Scope(brand_id=rolex),
        selectors.Scope(category="sports"),
        selectors.Scope(brand_id=omega, category="diver"),
        selectors.Scope(brand_id=omega, category="sports"),
    ]
    for scope in scopes:
        from_rollups = rollups.dashboard_sections(scope=scope, asked=asked, now=timezone.now())
        live = live_sections(scope, asked)

        assert from_rollups.as_of is not None
        assert from_rollups.standing == live["standing"], scope
        assert from_rollups.movers == live["movers"], scope
        assert from_rollups.health == live["health"], scope
        assert from_rollups.trend == live["trend"], scope
        assert from_rollups.violations == live["violations"], scope
        assert from_rollups.movers_live == (asked.period == "custom")
    whole = live_sections(selectors.Scope(), asked)  # not a comparison of nothing
    assert whole["standing"].gaps and whole["movers"].down and whole["violations"]


def test_before_the_first_refresh_the_page_computes_live_and_says_so(client, user, db):
    build_market()

    response = page(client, user)

    assert response.context["as_of"] is None
    assert "The market snapshot is being prepared" in response.content.decode()
    standing = response.context["standing"]
    assert (standing.cheapest, standing.within, standing.above, standing.no_market) == (2, 1, 1, 1)


def test_the_page_says_when_its_figures_are_from(client, user, market):
    refresh = MarketRefresh.objects.get()

    html = page(client, user).content.decode()

    assert "Figures as of <time datetime=" in html
    assert f">{refresh.computed_at:%H:%M} UTC</time>" in html
    assert "Computed live for this range" not in html
    custom = page(client, user, period="custom", **{"from": "2026-01-01", "to": "2026-01-07"})
    assert "Computed live for this range" in custom.content.decode()


def test_a_probe_recorded_after_the_refresh_shows_only_after_the_next_one(client, user, market):
    d4_listing = listing(market["products"]["D4"], Retailer.objects.get(name="Hour Mart"))
    observe(d4_listing, (0, "1000"))

    before = context(client, user)
    market_rollups_refresh()
    after = context(client, user)

    assert before["standing"].no_market == 1 and after["standing"].no_market == 0
    assert before["trend"][-1].observations + 1 == after["trend"][-1].observations
    hour_mart = {row.retailer: row.total for row in after["health"]}["Hour Mart"]
    assert hour_mart == 1 + {row.retailer: row.total for row in before["health"]}["Hour Mart"]


def test_a_refresh_recomputes_today_but_leaves_a_closed_day_untouched(market):
    today = timezone.now().date()
    ten_days_ago = today - timedelta(days=10)
    closed = MarketProbeDay.objects.get(day=ten_days_ago)
    closed_trend = MarketTrendDay.objects.get(day=ten_days_ago)
    first_today = MarketProbeDay.objects.filter(day=today).first()
    # A probe dated into a closed day after it was rolled up (probes never are: they carry
    # their creation time) shows that the day is not read again.
    late = observe(ListingFactory(product=market["products"]["D1"]), (10, "999"))[0]

    second = market_rollups_refresh().refresh

    kept = MarketProbeDay.objects.get(day=ten_days_ago)
    assert (kept.pk, kept.computed_at, kept.success) == (closed.pk, closed.computed_at, 1)
    assert MarketTrendDay.objects.get(day=ten_days_ago).pk == closed_trend.pk
    assert second.days_from == today - timedelta(days=1)
    assert first_today.computed_at < second.computed_at
    assert {row.computed_at for row in MarketProbeDay.objects.filter(day=today)} == {
        second.computed_at
    }
    # A full refresh reads every day again.
    market_rollups_refresh(full=True)
    assert MarketProbeDay.objects.filter(day=ten_days_ago).count() == 2
    assert late.status == "success"


def test_a_refresh_that_fails_part_way_is_recorded_shown_and_mended_by_the_next(
    client, user, market
):
    finished = MarketRefresh.objects.get()
    moves_table = MarketMove._meta.db_table
    with connection.cursor() as cursor:  # a real failure at the movers step
        cursor.execute(f"ALTER TABLE {moves_table} RENAME TO {moves_table}_away")
    with pytest.raises(DatabaseError):
        market_rollups_refresh()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {moves_table}_away RENAME TO {moves_table}")

    failed = MarketRefresh.objects.exclude(error="").get()
    assert moves_table in failed.error
    assert set(failed.seconds) == {
        "products snapshot",
        "probe days from "
        + str(min(finished.computed_at.date(), timezone.now().date() - timedelta(days=1))),
    }
    warned = page(client, user)
    assert warned.context["as_of"] == finished.computed_at
    assert "failed part-way" in warned.content.decode()

    mended = market_rollups_refresh().refresh

    assert mended.days_from == min(
        finished.computed_at.date(), timezone.now().date() - timedelta(days=1)
    )
    assert "failed part-way" not in page(client, user).content.decode()


def test_the_admin_lists_refreshes_with_failed_ones_and_their_error_read_only(
    client, admin_user, market
):
    failed = MarketRefresh.objects.create(
        computed_at=timezone.now(), finished_at=timezone.now(), error="OperationalError: locked"
    )
    client.force_login(admin_user)

    listed = client.get(reverse("admin:pricing_marketrefresh_changelist"))
    failures = client.get(
        reverse("admin:pricing_marketrefresh_changelist"), {"error__isempty": "0"}
    )
    shown = client.get(reverse("admin:pricing_marketrefresh_change", args=[failed.pk]))

    assert listed.status_code == 200 and "finished" in listed.text and "failed" in listed.text
    assert failures.context["cl"].result_count == 1
    assert "OperationalError: locked" in shown.text and 'name="_save"' not in shown.text
    assert client.get(reverse("admin:pricing_marketrefresh_add")).status_code == 403


def test_the_refresh_command_prints_each_step_and_its_time(market):
    out = StringIO()

    call_command("market_refresh", stdout=out)

    printed = out.getvalue()
    assert "products snapshot: 6 rows in" in printed
    assert f"probe days from {timezone.now().date() - timedelta(days=1)}" in printed
    assert "market rollups as of" in printed
    assert MarketRefresh.objects.count() == 2
