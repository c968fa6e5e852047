"""The admin shows forecast model runs with their metrics, and forecasts, read-only."""

import pytest
from django.urls import reverse

from tests.factories import ListingFactory
from tests.pricing.test_forecast_api import a_forecast, a_run

pytestmark = pytest.mark.django_db


def test_a_model_run_page_shows_its_metrics_against_the_baselines(client, admin_user):
    run = a_run()
    client.force_login(admin_user)

    listing_page = client.get(reverse("admin:pricing_forecastmodelrun_changelist"))
    page = client.get(reverse("admin:pricing_forecastmodelrun_change", args=[run.pk]))

    assert listing_page.status_code == 200
    assert "7d: 0.800 / 1.000" in listing_page.text
    assert page.status_code == 200
    assert "<td>7 days</td><td>80.00</td><td>100.00</td><td>95.00</td>" in page.text
    assert "<td>yes</td>" in page.text
    assert "<td>no</td>" in page.text
    assert 'name="_save"' not in page.text


def test_forecasts_are_listed_and_cannot_be_added(client, admin_user):
    a_forecast(a_run(), ListingFactory(), 7, beats=True)
    client.force_login(admin_user)

    page = client.get(reverse("admin:pricing_listingforecast_changelist"))
    add = client.get(reverse("admin:pricing_listingforecast_add"))

    assert page.status_code == 200
    assert "9,400.00" in page.text or "9400.00" in page.text
    assert add.status_code == 403
