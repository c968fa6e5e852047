"""The scraping provider (Oxylabs-compatible): realtime pages for "Probe Now", push-pull batch
jobs reported by an authenticated callback or found by polling, and a local headless browser.
"""
