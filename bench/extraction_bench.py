"""Extraction benchmark: the real retailer pages read by scraping.extraction and by BeautifulSoup.

    .venv/bin/python bench/extraction_bench.py [--rounds 21] [--baseline-rounds 5]

Every page in shared/pages/real (beside the repository) is read from memory, as bytes, the way
a probe hands a fetched body over. The baseline, measured in the same run, reads the same fields
in the same order with BeautifulSoup over lxml (bench/support/soup_baseline.py says how).

A round reads every page once; the figures are medians over rounds (per page: the median of its
rounds, then the median and 95th percentile over pages). Wall time decides the targets; CPU time
is printed beside it because the machine is shared. The garbage collector runs between rounds,
not during them. No Django, no network.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "pages" / "real"
sys.path.insert(0, str(ROOT))

from bench.support.measure import Verdicts, median, percentile  # noqa: E402
from bench.support.soup_baseline import soup_extract  # noqa: E402
from scraping.extraction import Extraction, extract, validate_identity  # noqa: E402

TARGET_RATIO = 20.0
TARGET_MEDIAN_MS = 10.0
# The currency each retailer's record carries, as in tests/scraping/test_real_pages.py.
RETAILER_CURRENCY = {"amazon.co.uk": "GBP", "amazon.es": "EUR"}
FIELDS = ("price", "regular_price", "currency", "available", "title", "identity")


@dataclass
class Page:
    entry: dict
    body: bytes

    @property
    def name(self) -> str:
        return self.entry["file"].removesuffix(".html")

    @property
    def url(self) -> str:
        return self.entry["url"]

    @property
    def currency(self) -> str:
        host = (urlsplit(self.url).hostname or "").removeprefix("www.")
        return RETAILER_CURRENCY.get(host, "USD")


@dataclass
class Timings:
    """Seconds per page per round, on both clocks."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    round_wall: list[float] = field(default_factory=list)
    round_cpu: list[float] = field(default_factory=list)

    def per_page(self, clock: str) -> list[float]:
        return [median(times) for times in getattr(self, clock).values()]

    def pages_per_second(self, clock: str, pages: int) -> float:
        return pages / median(self.round_wall if clock == "wall" else self.round_cpu)


Reader = Callable[[Page], Extraction]


def fast(page: Page) -> Extraction:
    return extract(page.body, url=page.url, retailer_currency=page.currency)


def baseline(page: Page) -> Extraction:
    return soup_extract(page.body, url=page.url, retailer_currency=page.currency)


def run_round(read: Reader, pages: list[Page], timings: Timings) -> None:
    gc.collect()
    round_wall = round_cpu = 0.0
    for page in pages:
        wall, cpu = time.perf_counter(), time.process_time()
        read(page)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        timings.wall.setdefault(page.name, []).append(wall)
        timings.cpu.setdefault(page.name, []).append(cpu)
        round_wall += wall
        round_cpu += cpu
    timings.round_wall.append(round_wall)
    timings.round_cpu.append(round_cpu)


# --- correctness --------------------------------------------------------------------------------


def _money(value: float | None) -> Decimal | None:
    # The manifest writes 169.1 for $169.10: amounts are compared, not spellings.
    return None if value is None else Decimal(str(value))


def _normalised(text: str | None) -> str:
    return re.sub(r"\s+", " ", html.unescape(text or "")).strip().casefold()


def disagreements(page: Page, found: Extraction) -> dict[str, str]:
    """Field -> "found X, manifest Y", for the fields where `found` disagrees with the manifest.

    The same rules as tests/scraping/test_real_pages.py: amounts compared as Decimal, titles
    equal or one containing the other once whitespace and case are normalised, identifiers by
    whether validate_identity accepts the page as the manifest's product.
    """
    entry = page.entry
    wrong: dict[str, str] = {}
    for name, got, want in (
        ("price", found.price, _money(entry["price"])),
        ("regular_price", found.regular_price, _money(entry["regular_price"])),
        ("currency", found.currency, entry["currency"]),
        ("available", found.available, entry["available"]),
    ):
        if got != want:
            wrong[name] = f"found {got}, manifest {want}"
    title, wanted_title = _normalised(found.title), _normalised(entry["title"])
    if not title or not (title in wanted_title or wanted_title in title):
        wrong["title"] = f"found {found.title!r}, manifest {entry['title']!r}"
    identifiers = {k: v for k, v in entry["identifiers"].items() if isinstance(v, str)}
    identity = validate_identity(
        found, identifiers=identifiers, listing_url=page.url, final_url=page.url
    )
    if not identity.ok:
        wrong["identity"] = f"refused: {identity.reason}"
    return wrong


# --- report -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="rounds of scraping.extraction")
    parser.add_argument(
        "--baseline-rounds", type=int, default=5, help="rounds of the BeautifulSoup baseline"
    )
    return parser.parse_args()


def load_pages() -> list[Page]:
    manifest = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))
    return [Page(entry, (PAGES / entry["file"]).read_bytes()) for entry in manifest]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def main() -> int:
    args = parse_args()
    pages = load_pages()
    total_mb = sum(len(p.body) for p in pages) / 1e6
    print(f"Extraction of {len(pages)} real retailer pages ({total_mb:.1f} MB) from {PAGES}")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at the start")
    print(
        f"rounds: {args.rounds} scraping.extraction, {args.baseline_rounds} BeautifulSoup "
        "baseline (bs4 + lxml); wall = time.perf_counter, cpu = time.process_time\n"
    )

    # The first reading of each page checks the answers and warms both readers up.
    fast_wrong = {p.name: disagreements(p, fast(p)) for p in pages}
    slow_wrong = {p.name: disagreements(p, baseline(p)) for p in pages}

    fast_t, slow_t = Timings(), Timings()
    for number in range(max(args.rounds, args.baseline_rounds)):
        if number < args.rounds:
            run_round(fast, pages, fast_t)
        if number < args.baseline_rounds:
            run_round(baseline, pages, slow_t)

    print(f"{'page':40} {'KB':>6} {'fast ms':>8} {'(cpu)':>8} {'bs4 ms':>8} {'(cpu)':>8} {'x':>6}")
    for page in pages:
        fw, fc = median(fast_t.wall[page.name]), median(fast_t.cpu[page.name])
        sw, sc = median(slow_t.wall[page.name]), median(slow_t.cpu[page.name])
        print(
            f"{page.name:40} {len(page.body) / 1024:6.0f} {ms(fw)} {ms(fc)} {ms(sw)} {ms(sc)} "
            f"{sw / fw:6.1f}"
        )

    print(f"\n{'per page, ms':28} {'median':>8} {'p95':>8} {'pages/s':>9}")
    rates = {}
    for label, timings in (("scraping.extraction", fast_t), ("BeautifulSoup baseline", slow_t)):
        for clock in ("wall", "cpu"):
            per_page = timings.per_page(clock)
            rate = timings.pages_per_second(clock, len(pages))
            rates[label, clock] = rate
            print(
                f"{label + ' (' + clock + ')':28} {ms(median(per_page))} "
                f"{ms(percentile(per_page, 95))} {rate:9.1f}"
            )
    ratio = rates["scraping.extraction", "wall"] / rates["BeautifulSoup baseline", "wall"]
    cpu_ratio = rates["scraping.extraction", "cpu"] / rates["BeautifulSoup baseline", "cpu"]
    print(f"\nspeed ratio (pages/s, median of rounds): {ratio:.1f}x wall, {cpu_ratio:.1f}x cpu")

    print("\nAgreement with manifest.json (price, regular price, currency, availability, title,")
    print("identity accepted for the manifest's identifiers):")
    for label, wrong in (
        ("scraping.extraction", fast_wrong),
        ("BeautifulSoup baseline", slow_wrong),
    ):
        misses = sum(len(w) for w in wrong.values())
        checked = len(pages) * len(FIELDS)
        print(f"  {label}: {checked - misses}/{checked} fields agree")
        for name, fields in wrong.items():
            for field_name, detail in fields.items():
                print(f"    {name}: {field_name}: {detail}")

    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    fast_median = median(fast_t.per_page("wall"))
    verdicts = Verdicts()
    verdicts.check(
        ratio >= TARGET_RATIO,
        f"pages/s vs the BeautifulSoup baseline (wall): {ratio:.1f}x >= {TARGET_RATIO:.0f}x",
    )
    verdicts.check(
        fast_median * 1000 < TARGET_MEDIAN_MS,
        f"median per page (wall): {fast_median * 1000:.2f} ms < {TARGET_MEDIAN_MS:.0f} ms",
    )
    fast_misses = sum(len(w) for w in fast_wrong.values())
    verdicts.check(
        fast_misses == 0,
        f"scraping.extraction agrees with the manifest on every field ({fast_misses} mismatches)",
    )
    verdicts.print()
    return verdicts.exit_status


if __name__ == "__main__":
    sys.exit(main())
