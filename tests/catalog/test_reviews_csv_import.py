"""Importing reviews from CSV in the admin: every row checked first, nothing half-imported."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Review
from catalog.review_imports import reviews_import_csv
from catalog.sentiment import SCORER
from tests.conftest import grant
from tests.factories import BrandFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:catalog_review_import")
CHANGELIST_URL = reverse("admin:catalog_review_changelist")

GOOD_CSV = """brand,reference,rating,text,posted_at,source,external_id,author,title
Rolex,126500LN,5,"Superb watch, I love it.",2026-03-01,chrono24,c24-1,Ana,Grail
rolex,126500LN,1,"Terrible, it arrived broken.",2026-03-02T08:30:00Z,chrono24,,Ben,
Omega,310.30.42.50.01.001,3,It is a watch.,2026-04-10T12:00:00+02:00,,,,
"""


@pytest.fixture
def watches():
    rolex = BrandFactory(name="Rolex", slug="rolex")
    omega = BrandFactory(name="Omega", slug="omega")
    return (
        ProductFactory(brand=rolex, reference="126500LN"),
        ProductFactory(brand=omega, reference="310.30.42.50.01.001"),
    )


def upload(text: str | bytes) -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile("reviews.csv", content, content_type="text/csv")


def import_text(text: str | bytes):
    return reviews_import_csv(file=upload(text), user=None)


def test_it_imports_reviews_scored_with_exact_values(watches):
    daytona, speedmaster = watches

    result = import_text(GOOD_CSV)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    good = Review.objects.get(external_id="c24-1")
    assert (good.product, good.source, good.author, good.title) == (
        daytona,
        "chrono24",
        "Ana",
        "Grail",
    )
    assert good.posted_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert (good.sentiment_label, good.sentiment_scorer) == ("positive", SCORER)
    bad = Review.objects.get(author="Ben")
    assert bad.sentiment_label == "negative"
    assert bad.external_id.startswith("sha256:")
    plain = Review.objects.get(product=speedmaster)
    assert plain.source == "csv"
    assert plain.posted_at == datetime(2026, 4, 10, 10, tzinfo=UTC)


def test_importing_the_same_file_twice_adds_nothing(watches):
    import_text(GOOD_CSV)

    result = import_text(GOOD_CSV)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert Review.objects.count() == 3


def test_a_changed_review_is_updated_and_rescored(watches):
    import_text(GOOD_CSV)

    result = import_text(GOOD_CSV.replace("Superb watch, I love it.", "Awful, I hate it."))

    assert (result.created, result.updated) == (0, 1)
    assert Review.objects.get(external_id="c24-1").sentiment_label == "negative"


def test_semicolons_and_a_byte_order_mark_are_read(watches):
    text = "\ufeffbrand;reference;rating;text;posted_at\nRolex;126500LN;4;Très bien;2026-01-01\n"

    result = import_text(text.encode("utf-8"))

    assert result.ok, result.errors
    assert Review.objects.get().text == "Très bien"


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_imported(watches):
    text = """brand,reference,rating,text,posted_at,external_id
Rolex,126500LN,5,Fine,2026-03-01,a
Rolex,126500LN,6,Fine,2026-03-01,b
Rolex,126500LN,4,,2026-03-01,c
Rolex,126500LN,4,Fine,01/03/2026,d
Rolex,999,4,Fine,2026-03-01,e
Breguet,5177,4,Fine,2026-03-01,f
Rolex,126500LN,5,Fine again,2026-03-02,a
Rolex,126500LN,4.5,Fine,2026-03-01,g
Rolex,126500LN,4,Fine,0001-01-01T00:00:00+05:00,h
"""

    result = import_text(text)

    assert [(error.row, error.field) for error in result.errors] == [
        (3, "rating"),
        (4, "text"),
        (5, "posted_at"),
        (6, "reference"),
        (7, "brand"),
        (8, "external_id"),
        (9, "rating"),
        (10, "posted_at"),
    ]
    assert "row 2" in result.errors[5].message
    assert not Review.objects.exists()


def test_an_unknown_column_or_a_missing_required_one_is_reported_on_row_1(watches):
    result = import_text("brand,reference,stars,text\nRolex,126500LN,5,Fine\n")

    messages = " ".join(error.message for error in result.errors)
    assert {error.row for error in result.errors} == {1}
    assert "rating, posted_at" in messages
    assert "stars" in messages
    assert not Review.objects.exists()


def test_too_many_rows_is_refused(watches):
    rows = "".join(f"Rolex,126500LN,5,Fine {n},2026-03-01\n" for n in range(4))

    result = reviews_import_csv(
        file=upload("brand,reference,rating,text,posted_at\n" + rows), max_rows=3
    )

    assert "more than 3 review rows" in result.errors[0].message
    assert not Review.objects.exists()


def test_the_admin_imports_a_good_file_and_says_how_many(client, admin_user, watches):
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(GOOD_CSV)}, follow=True)

    assert response.redirect_chain[-1][0] == CHANGELIST_URL
    assert "3 created" in response.content.decode()
    assert Review.objects.count() == 3


def test_the_admin_lists_each_problem_of_a_bad_file(client, admin_user, watches):
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(GOOD_CSV.replace(",5,", ",9,"))})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "not a whole number of stars" in page
    assert not Review.objects.exists()


def test_the_import_needs_add_and_change_review(client, watches):
    user = UserFactory(is_staff=True)
    client.force_login(grant(user, "catalog.view_review", "catalog.add_review"))

    assert client.get(IMPORT_URL).status_code == 403
    assert "Import CSV" not in client.get(CHANGELIST_URL).content.decode()

    client.force_login(grant(user, "catalog.change_review"))
    assert client.get(IMPORT_URL).status_code == 200
    assert "Import CSV" in client.get(CHANGELIST_URL).content.decode()


def test_the_admin_action_scores_reviews_again(client, admin_user, watches):
    import_text(GOOD_CSV)
    Review.objects.update(sentiment_label="", sentiment_score=None, sentiment_scorer="")
    client.force_login(admin_user)

    client.post(
        CHANGELIST_URL,
        {
            "action": "rescore_sentiment",
            "_selected_action": list(Review.objects.values_list("pk", flat=True)),
        },
    )

    assert set(Review.objects.values_list("sentiment_scorer", flat=True)) == {SCORER}
