"""Sentiment benchmark: accuracy of catalog.sentiment on the labelled reviews, and its speed.

    .venv/bin/python bench/sentiment_bench.py [--repeat 100]
    .venv/bin/python bench/sentiment_bench.py --write-set     # rebuild the labelled set

The labelled set is catalog/sentiment/labelled_reviews.csv (catalog/sentiment/labelled.py says
what is in it): the reviews on the real retailer pages in shared/pages/real, and the demo's
review texts, which we wrote ourselves. Labels come from the stars (4-5 positive, 1-2
negative); three-star reviews are left out. Every figure is printed for the real reviews, the
written ones and both together, since a set we wrote ourselves is weak evidence.

The baseline, measured in the same run on the same rows, is the majority class: it says
"positive" to every review (the most common label in the set). Accuracy is printed beside
balanced accuracy (the mean of the recall of each true class), because on a set that is mostly
positive the majority baseline scores a high accuracy while knowing nothing; its balanced
accuracy is 50%. The scorer answers positive, neutral or negative; a neutral answer counts as
wrong for a review whose stars say positive or negative.

Throughput scores the labelled texts `--repeat` times over, in one thread, lexicon loaded.
No Django, no network.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "pages" / "real"
sys.path.insert(0, str(ROOT))

from bench.support.measure import Verdicts, timed  # noqa: E402
from catalog.sentiment import SCORER, Label, score_review  # noqa: E402
from catalog.sentiment.labelled import (  # noqa: E402
    LabelledReview,
    labelled_reviews,
    write_labelled_reviews,
)
from scraping.extraction.reviews import extract_reviews  # noqa: E402

TRUE = (Label.POSITIVE, Label.NEGATIVE)
PREDICTED = (Label.POSITIVE, Label.NEUTRAL, Label.NEGATIVE)
TARGET_REVIEWS_PER_SECOND = 1000


def real_page_reviews() -> list[LabelledReview]:
    manifest = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for entry in manifest:
        found = extract_reviews((PAGES / entry["file"]).read_bytes(), url=entry["url"])
        rows += [
            LabelledReview("real", entry["file"], r.rating, None, r.title, r.text)
            for r in found.reviews
        ]
    return rows


def written_reviews() -> list[LabelledReview]:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watchprice.settings")
    django.setup()
    from catalog.demo import REVIEW_TEXTS, SHOP_REVIEWS

    return [
        *(
            LabelledReview("written", "SHOP_REVIEWS", r.rating, None, r.title, r.text)
            for r in SHOP_REVIEWS
        ),
        *(
            LabelledReview("written", "REVIEW_TEXTS", rating, None, "", text)
            for rating, text in REVIEW_TEXTS
        ),
    ]


def report(name: str, rows: Sequence[LabelledReview], verdicts: Verdicts | None) -> None:
    rows = [row for row in rows if row.label is not None]
    predicted = [score_review(title=row.title, text=row.text).label for row in rows]
    truth = [row.label for row in rows]
    counts = Counter(truth)
    majority = counts.most_common(1)[0][0]
    n = len(rows)
    correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
    accuracy = correct / n
    baseline = counts[majority] / n
    recalls = {
        label: sum(p == t == label for p, t in zip(predicted, truth, strict=True)) / counts[label]
        for label in TRUE
        if counts[label]
    }
    balanced = sum(recalls.values()) / len(recalls)
    baseline_balanced = 1 / len(recalls)

    print(
        f"\n{name}: {n} reviews ({counts[Label.POSITIVE]} positive, "
        f"{counts[Label.NEGATIVE]} negative by their stars)"
    )
    print(f"  accuracy            {accuracy:6.1%}   majority baseline ({majority}) {baseline:6.1%}")
    print(f"  balanced accuracy   {balanced:6.1%}   majority baseline {baseline_balanced:6.1%}")
    print("  per class           precision   recall   (n)")
    for label in TRUE:
        said = sum(p == label for p in predicted)
        hits = sum(p == t == label for p, t in zip(predicted, truth, strict=True))
        precision = f"{hits / said:9.1%}" if said else "      n/a"
        recall = f"{hits / counts[label]:8.1%}" if counts[label] else "     n/a"
        print(f"    {label:<17} {precision}  {recall}   ({counts[label]})")
    print("  confusion matrix    rows: stars say, columns: scorer says")
    print("    " + " " * 18 + "".join(f"{label:>10}" for label in PREDICTED))
    for label in TRUE:
        cells = [
            sum(p == column and t == label for p, t in zip(predicted, truth, strict=True))
            for column in PREDICTED
        ]
        print(f"    {label:<18}" + "".join(f"{cell:>10}" for cell in cells))
    if verdicts is not None:
        verdicts.check(
            accuracy > baseline,
            f"{name}: accuracy {accuracy:.1%} beats the majority baseline {baseline:.1%}",
        )
        verdicts.check(
            balanced > baseline_balanced,
            f"{name}: balanced accuracy {balanced:.1%} beats the majority baseline "
            f"{baseline_balanced:.1%}",
        )
    elif len(recalls) == 1:
        print(
            f"  (one class only: the majority baseline is right on every review by "
            f"construction, so this set checks recall of {majority}, not a target)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--write-set", action="store_true", help="rebuild the labelled set")
    args = parser.parse_args()

    if args.write_set:
        rows = real_page_reviews() + written_reviews()
        write_labelled_reviews(rows)
        print(f"wrote {len(rows)} reviews")
        return 0

    rows = labelled_reviews()
    real = [row for row in rows if row.origin == "real"]
    written = [row for row in rows if row.origin == "written"]
    on_pages = [(row.rating, row.title, row.text) for row in real_page_reviews()]
    stored = [(row.rating, row.title, row.text) for row in real]
    print(f"Sentiment benchmark: scorer {SCORER}")
    print(
        f"Labelled set: {len(rows)} reviews, {len(real)} real (from shared/pages/real), "
        f"{len(written)} written by us; three-star reviews left out: "
        f"{sum(row.label is None for row in rows)}"
    )
    print(
        f"Real rows match what extraction reads from the pages today: "
        f"{'yes' if on_pages == stored else 'NO'}"
    )

    verdicts = Verdicts()
    verdicts.check(on_pages == stored, "the labelled set's real reviews are the pages' reviews")
    report("Real reviews", real, None)
    report("Written reviews (ours: weak evidence)", written, None)
    report("All reviews", rows, verdicts)

    texts = [(row.title, row.text) for row in rows] * args.repeat
    score_review(title="warm", text="up")
    with timed() as span:
        for title, text in texts:
            score_review(title=title, text=text)
    rate = len(texts) / span.wall
    print(
        f"\nThroughput: {len(texts):,} reviews in {span.wall:.2f} s wall "
        f"({span.cpu:.2f} s CPU): {rate:,.0f} reviews/s in one thread"
    )
    verdicts.check(
        rate >= TARGET_REVIEWS_PER_SECOND,
        f"scoring runs at {rate:,.0f} reviews/s, at least {TARGET_REVIEWS_PER_SECOND:,}",
    )
    verdicts.print()
    return verdicts.exit_status


if __name__ == "__main__":
    sys.exit(main())
