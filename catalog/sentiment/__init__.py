"""Review sentiment: plain functions over text, nothing from Django.

The scorer is VADER (vaderSentiment), a rule-based model whose lexicon of ~7,500 rated words and
emoji ships inside its wheel: nothing is downloaded or trained at run time, it needs no GPU, and
it handles what short shop reviews are made of (negation, "but", intensifiers, capitals, "!!").

A review's label comes from its words only, never from its star rating: the rating is what the
accuracy benchmark checks the label against.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Bump the suffix whenever the thresholds or the text fed to VADER change, so stored scores
# made the old way can be found and rescored.
SCORER = "vader-3.3.2/1"
# VADER's authors' cut-offs on the compound score.
POSITIVE_FROM = 0.05
NEGATIVE_TO = -0.05


class Label(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    # VADER's compound score: -1 (most negative) to +1 (most positive).
    score: float
    scorer: str = SCORER


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Reading the lexicon files takes ~30 ms: once per process.
    return SentimentIntensityAnalyzer()


def label_for(score: float) -> Label:
    if score >= POSITIVE_FROM:
        return Label.POSITIVE
    if score <= NEGATIVE_TO:
        return Label.NEGATIVE
    return Label.NEUTRAL


def review_text(title: str | None, text: str | None) -> str:
    """What is scored: the headline and the body, as a reader takes them in."""
    title, text = (title or "").strip(), (text or "").strip()
    if title and text and not title.endswith((".", "!", "?")):
        title += "."
    return f"{title} {text}".strip()


def score_text(text: str) -> Sentiment:
    compound = round(_analyzer().polarity_scores(text or "")["compound"], 4)
    return Sentiment(label=label_for(compound), score=compound)


def score_review(*, title: str | None = None, text: str | None) -> Sentiment:
    return score_text(review_text(title, text))


def label_from_rating(rating: int) -> Label | None:
    """The label a star rating implies: 4-5 positive, 1-2 negative. Three stars say "it is
    fine" as often as "it is bad", so they are left out of the labelled set (None)."""
    if rating >= 4:
        return Label.POSITIVE
    if rating <= 2:
        return Label.NEGATIVE
    return None
