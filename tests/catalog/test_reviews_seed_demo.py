import pytest
from django.core.management import call_command

from catalog.models import Review
from catalog.sentiment import SCORER

pytestmark = pytest.mark.django_db


def test_seed_demo_scores_its_reviews_once(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    labels = dict(Review.objects.values_list("pk", "sentiment_label"))

    call_command("seed_demo")

    assert set(Review.objects.values_list("sentiment_scorer", flat=True)) == {SCORER}
    assert {"positive", "negative"} <= set(labels.values())
    assert f"{len(labels)} reviews scored for sentiment" in first
    assert "0 reviews scored for sentiment" in capsys.readouterr().out
    assert dict(Review.objects.values_list("pk", "sentiment_label")) == labels
