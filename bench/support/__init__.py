"""What extraction_bench.py and probing_bench.py share: timing, the BeautifulSoup baseline, a
throwaway database, the demo marketplace in its own process and the probing pipeline."""
