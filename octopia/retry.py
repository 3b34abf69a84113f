"""The one bounded retry policy of the core, shared by API calls and the token request."""

import email.utils
import random
import time

from . import wire


def parse_retry_after(value, now=None):
    """Retry-After in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)


class RetryBudget:
    """What one call may still spend on retries: at most `max_retries` more tries and
    `max_total_wait` seconds asleep in all. Between tries it waits what the server asked
    (Retry-After), else an exponential backoff with full jitter."""

    def __init__(
        self, max_retries=wire.MAX_RETRIES, max_total_wait=wire.MAX_TOTAL_WAIT, sleep=time.sleep
    ):
        self.max_retries = max_retries
        self.max_total_wait = max_total_wait
        self._sleep = sleep
        self.attempt = 0  # retries made so far
        self.waited = 0.0

    def allows(self, retry_after=None):
        """True when one more try fits, after waiting `retry_after` seconds if given."""
        return self.attempt < self.max_retries and (
            retry_after is None or self.waited + retry_after <= self.max_total_wait
        )

    def wait(self, retry_after=None):
        """Sleep before the next try, within what is left of the total wait."""
        if retry_after is None:
            ceiling = min(wire.BACKOFF_CAP, wire.BACKOFF_BASE * 2**self.attempt)
            retry_after = random.uniform(0, ceiling)  # full jitter
        delay = max(0.0, min(retry_after, self.max_total_wait - self.waited))
        self.attempt += 1
        self.waited += delay
        if delay:
            self._sleep(delay)
