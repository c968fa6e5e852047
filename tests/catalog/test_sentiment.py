"""Scoring review sentiment: plain functions, no database."""

import pytest

from catalog.sentiment import SCORER, Label, label_for, label_from_rating, review_text, score_review
from catalog.sentiment.labelled import labelled_reviews


@pytest.mark.parametrize(
    ("title", "text", "label"),
    [
        ("Love it", "Superb finishing and it keeps perfect time.", Label.POSITIVE),
        ("", "Best purchase I have made. Highly recommended!", Label.POSITIVE),
        ("Avoid", "Arrived with a cracked crystal. Terrible packaging.", Label.NEGATIVE),
        ("", "Not good at all: it stopped after two days.", Label.NEGATIVE),
        ("", "The watch has a steel case and a black dial.", Label.NEUTRAL),
    ],
)
def test_clear_reviews_get_the_obvious_label(title, text, label):
    found = score_review(title=title, text=text)

    assert found.label == label
    assert found.scorer == SCORER


def test_scores_run_from_minus_one_to_one_and_follow_the_words():
    glowing = score_review(text="Wonderful, beautiful, perfect. I love it!!!").score
    fine = score_review(text="It is fine.").score
    awful = score_review(text="Awful, broken, the worst dealer ever. I hate it!!!").score

    assert -1 <= awful < 0 < fine < glowing <= 1


def test_negation_turns_the_label():
    assert score_review(text="This watch is good.").label == Label.POSITIVE
    assert score_review(text="This watch is not good.").label == Label.NEGATIVE


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.05, Label.POSITIVE),
        (0.049, Label.NEUTRAL),
        (-0.049, Label.NEUTRAL),
        (-0.05, Label.NEGATIVE),
    ],
)
def test_the_label_thresholds_are_vaders(score, label):
    assert label_for(score) == label


@pytest.mark.parametrize(
    ("rating", "label"),
    [(5, Label.POSITIVE), (4, Label.POSITIVE), (3, None), (2, Label.NEGATIVE), (1, Label.NEGATIVE)],
)
def test_stars_give_the_benchmark_its_labels(rating, label):
    assert label_from_rating(rating) == label


def test_the_headline_is_read_before_the_body_as_a_sentence():
    assert review_text("Great", "Fans are loud") == "Great. Fans are loud"
    assert review_text("Great!", "Fans are loud") == "Great! Fans are loud"
    assert review_text("", "  Fans are loud ") == "Fans are loud"


def test_the_labelled_set_holds_real_and_written_reviews_labelled_by_their_stars():
    rows = labelled_reviews()

    assert sum(row.origin == "real" for row in rows) >= 34
    assert {row.origin for row in rows} == {"real", "written"}
    assert all(row.label == label_from_rating(row.rating) for row in rows)
