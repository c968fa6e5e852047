import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_reviewer_who_is_not_staff_signs_in_and_lands_on_the_products(client, user):
    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery staple"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("scraping:product-list")
    assert client.get(reverse("scraping:product-list")).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})

    assert response.status_code == 200
    assert "password didn't match" in response.content.decode()


def test_an_htmx_request_without_a_session_is_sent_to_the_login_page_as_a_whole(client):
    response = client.get(reverse("scraping:product-list"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_a_plain_request_without_a_session_is_redirected_to_log_in(client):
    response = client.get(reverse("scraping:product-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
