"""The provider's callback: authenticated by the JWT in its URL, nothing else."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from scraping.models import ProviderCallback
from scraping.provider.batch import provider_callback_receive
from scraping.provider.tokens import CallbackTokenInvalid, callback_token_verify

logger = logging.getLogger(__name__)

STATUS_FOR_OUTCOME = {
    ProviderCallback.Outcome.PROCESSED: 200,
    ProviderCallback.Outcome.DUPLICATE: 200,
    ProviderCallback.Outcome.MALFORMED: 400,
    ProviderCallback.Outcome.UNKNOWN_JOB: 400,
    # We could not ask the provider about the job; a callback sent again may succeed.
    ProviderCallback.Outcome.FAILED: 503,
}


@csrf_exempt
@require_POST
def provider_callback_view(request: HttpRequest) -> JsonResponse:
    try:
        callback_token_verify(request.GET.get("token", ""))
    except CallbackTokenInvalid as exc:
        logger.warning(
            "provider callback refused from %s: %s", request.META.get("REMOTE_ADDR"), exc
        )
        response = JsonResponse({"error": "missing, invalid or expired callback token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    callback = provider_callback_receive(body=request.body)
    answer = {"outcome": callback.outcome, "job_id": callback.job_id}
    if callback.error_message:
        answer["error"] = callback.error_message
    return JsonResponse(answer, status=STATUS_FOR_OUTCOME[callback.outcome])
