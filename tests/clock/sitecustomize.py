"""Loaded by a test glance-api whose PYTHONPATH starts with this
directory: its clock (time.time, datetime.now...) runs
GA_TEST_CLOCK_SKEW seconds off, as on a host whose clock is wrong.
time.monotonic is left alone, so timeouts still work."""

import os
import time

import time_machine

_skew = float(os.environ.get('GA_TEST_CLOCK_SKEW', '0'))
if _skew:
    time_machine.travel(time.time() + _skew, tick=True).start()
