from django.conf import settings
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


def htmx_login_redirect(get_response):
    """An htmx request whose session expired gets a full-page redirect to the login page,
    instead of the login form swapped into the middle of a table row."""
    login_url = resolve_url(settings.LOGIN_URL)

    def middleware(request):
        response = get_response(request)
        location = response.get("Location", "")
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and (location.startswith(login_url))
        ):
            return HttpResponseClientRedirect(location)
        return response

    return middleware
