"""What scraping announces to the apps above it (pricing, alerts), which it must not import."""

from django.dispatch import Signal

# Sent after the transaction that recorded a probe commits, with probe_id (int).
probe_finished = Signal()
