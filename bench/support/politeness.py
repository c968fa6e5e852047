"""Where the fetcher says a request went, to compare with when the server saw it arrive."""

from __future__ import annotations

import time
from collections import defaultdict

from scraping.fetching import SharedState


class ConfirmLog:
    """A SharedState that notes, per key, when `confirm` let a request go (time.monotonic()).

    The fetcher calls confirm() right before sending, and the state records that instant as the
    request's "sent" time: the spacing it enforces is between these instants.
    """

    def __init__(self, state: SharedState) -> None:
        self._state = state
        self.sent: dict[str, list[float]] = defaultdict(list)

    def confirm(self, key: str, spacing: float) -> float:
        wait = self._state.confirm(key, spacing)
        if wait <= 0:
            self.sent[key].append(time.monotonic())
        return wait

    def __getattr__(self, name: str):
        return getattr(self._state, name)
