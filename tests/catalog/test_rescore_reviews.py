from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from catalog.models import Review
from catalog.sentiment import SCORER
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def test_it_scores_every_review_in_batches_and_shows_progress(capsys):
    ReviewFactory.create_batch(3, text="I love it, wonderful watch.")
    ReviewFactory(text="Awful. It broke.", posted_at=datetime(2026, 1, 1, tzinfo=UTC))

    call_command("rescore_reviews", "--batch-size", "2")

    out = capsys.readouterr().out
    assert "2 / 4 reviews scored" in out
    assert "4 / 4 reviews scored" in out
    assert f"Scored 4 reviews with {SCORER}" in out
    labels = sorted(Review.objects.values_list("sentiment_label", flat=True))
    assert labels == ["negative", "positive", "positive", "positive"]


def test_stale_leaves_reviews_the_current_scorer_labelled(capsys):
    current = ReviewFactory(
        text="Awful.", sentiment_label="positive", sentiment_score=0.9, sentiment_scorer=SCORER
    )
    old = ReviewFactory(text="Awful.", sentiment_label="positive", sentiment_scorer="vader/0")

    call_command("rescore_reviews", "--stale")

    current.refresh_from_db()
    old.refresh_from_db()
    assert current.sentiment_label == "positive"
    assert (old.sentiment_label, old.sentiment_scorer) == ("negative", SCORER)
    assert "Scored 1 review with" in capsys.readouterr().out
