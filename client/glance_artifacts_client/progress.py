"""A progress bar for transfers, on a stream of its own (stderr):

     42% [############                  ] 4.2/10.0 MiB  12.3 MiB/s  ETA 0:00:01

and, once done, the elapsed time in place of the ETA. Redrawn in place
(carriage return) at most every ``interval`` seconds.
"""

import sys
import time

WIDTH = 30
UNITS = (('GiB', 2 ** 30), ('MiB', 2 ** 20), ('KiB', 2 ** 10))


def _unit(size):
    """(name, bytes) of the unit to show ``size`` bytes in."""
    for name, unit in UNITS:
        if size >= unit:
            return name, unit
    return 'B', 1


def _amount(size, unit):
    return '%d' % size if unit == 1 else '%.1f' % (size / unit)


def _duration(seconds):
    seconds = int(round(seconds))
    return '%d:%02d:%02d' % (seconds // 3600, seconds // 60 % 60,
                             seconds % 60)


class Progress(object):
    """Call update(bytes done so far) as data moves, or call the object
    with (bytes done, total), and finish() after the last byte; ``total``
    is the size in bytes, None while unknown. The clock starts at the
    first update."""

    def __init__(self, total, stream=None, interval=0.1, clock=None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock or time.monotonic
        self.started = None
        self.done = 0
        self._drawn = None
        self._finished = False

    def __call__(self, done, total=None):
        if total is not None:
            self.total = total
        self.update(done)

    def update(self, done):
        self.done = done
        now = self.clock()
        if self.started is None:
            self.started = now
        if self._drawn is None or now - self._drawn >= self.interval:
            self._draw(now, final=False)

    def finish(self):
        if not self._finished:
            self._finished = True
            now = self.clock()
            if self.started is None:
                self.started = now
            self._draw(now, final=True)
            self.stream.write('\n')
            self.stream.flush()

    def stop(self):
        """End the bar's line where it stands (after an error), so that
        what is written next starts a line of its own."""
        if not self._finished:
            self._finished = True
            if self._drawn is not None:
                self._draw(self.clock(), final=False)
                self.stream.write('\n')
                self.stream.flush()

    def line(self, now, final):
        """The text of the bar at ``now``."""
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        if self.total is not None:
            fraction = (min(self.done / self.total, 1.0) if self.total
                        else 1.0)
            name, unit = _unit(self.total)
            bar = '%3d%% [%-*s] %s/%s %s' % (
                fraction * 100, WIDTH, '#' * int(fraction * WIDTH),
                _amount(self.done, unit), _amount(self.total, unit), name)
        else:
            name, unit = _unit(self.done)
            bar = '%s %s' % (_amount(self.done, unit), name)
        if final:
            when = 'in %s' % _duration(elapsed)
        elif self.total and rate > 0:
            when = 'ETA %s' % _duration((self.total - self.done) / rate)
        else:
            when = 'ETA --:--:--'
        rate_name, rate_unit = _unit(rate)
        return '%s  %s %s/s  %s' % (bar, _amount(rate, rate_unit),
                                    rate_name, when)

    def _draw(self, now, final):
        self._drawn = now
        self.stream.write('\r' + self.line(now, final).ljust(72))
        self.stream.flush()
