"""Tell systemd how the service is doing (sd_notify), with the standard library only.

systemd starts dataMan as ``Type=notify`` and passes the address of a datagram socket
in ``NOTIFY_SOCKET``: a file path, or a Linux abstract-namespace name written with a
leading ``@``. The service sends newline-separated ``KEY=value`` assignments to it:

* ``READY=1`` once its sockets are bound, so ``systemctl start`` returns only when
  azcam can already reach it;
* ``WATCHDOG=1`` from its event loop at least every ``WatchdogSec``, so a hung loop
  is killed and restarted;
* ``STATUS=queue 2 done 118 failed 0``, shown by ``systemctl status dataMan``;
* ``STOPPING=1`` when a graceful stop begins.

The protocol is twenty lines of ``socket``, so this module avoids the python-systemd
dependency (and its C build). Outside systemd every call is a no-op, and a failed
send is logged at debug and otherwise ignored: telling systemd is never a reason for
the service to fail.

Examples
--------
>>> notifier = Notifier(environ={})      # not under systemd
>>> notifier.enabled, notifier.ready(), notifier.watchdog_interval()
(False, None, None)
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: How often :func:`watchdog_loop` refreshes STATUS when no watchdog is configured, seconds.
STATUS_PERIOD = 2.0


def status_text(queued: int, done: int, failed: int) -> str:
    """The STATUS line operators see in ``systemctl status``: one glance, three numbers.

    >>> status_text(0, 3, 0)
    'queue 0 done 3 failed 0'
    """
    return f"queue {queued} done {done} failed {failed}"


def _socket_address(value: str) -> str | None:
    """The ``sendto`` address for a NOTIFY_SOCKET value; ``None`` if unusable here.

    A leading ``@`` names the abstract namespace, which the kernel spells with a NUL.
    Other forms (systemd 253+ ``vsock:``) are not used on the instrument servers.
    """
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class Notifier:
    """A connection to systemd's notification socket, read from the environment once.

    Created by the supervisor only: the workers inherit ``NOTIFY_SOCKET`` but must not
    speak for the service (the unit sets ``NotifyAccess=main`` anyway).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        self._address = _socket_address(raw) if raw else None
        if raw and self._address is None:
            log.debug("NOTIFY_SOCKET=%r is not a Unix socket address; not notifying", raw)
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")
        self._socket: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notification socket."""
        return self._address is not None

    def ready(self) -> None:
        """Startup is complete: the UDP and control sockets are bound."""
        self.send("READY=1")

    def status(self, text: str) -> None:
        """Set the one-line status shown by ``systemctl status`` (newlines become spaces)."""
        self.send("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> None:
        """The event loop is alive; systemd restarts the service if this stops coming."""
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        """A graceful stop has begun; in-flight frames are being finished."""
        self.send("STOPPING=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of ``WatchdogSec``), ``None`` if none is due.

        Half the timeout, as sd_watchdog_enabled(3) advises, leaves a whole interval of
        margin for a slow tick. ``WATCHDOG_PID`` naming another process means the
        watchdog is that process's business (we are a child that inherited it).
        """
        if self._watchdog_pid and self._watchdog_pid != str(os.getpid()):
            return None
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 2_000_000 if usec > 0 else None

    def send(self, message: str) -> None:
        """Send one datagram; no-op outside systemd; errors are logged at debug only.

        The socket is non-blocking: if systemd's queue is full, the message is dropped
        rather than stalling the supervisor's event loop.
        """
        if self._address is None:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(message.encode(), self._address)
        except OSError as error:
            log.debug("sd_notify %r to %r failed: %s", message, self._address, error)

    def close(self) -> None:
        """Release the socket (a later send opens a new one)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


async def watchdog_loop(notifier: Notifier, status_provider: Callable[[], str]) -> None:
    """Ping the watchdog and publish STATUS changes until cancelled.

    Run it as a task of the supervisor's event loop: because the ping comes from the
    loop itself, a loop blocked by a bug stops the pings and systemd restarts the
    service. STATUS is sent only when ``status_provider()`` returns a new text, at
    most once per tick, so a busy night does not flood the journal's status field.
    Returns at once when not running under systemd.
    """
    if not notifier.enabled:
        return
    interval = notifier.watchdog_interval()
    tick = min(interval, STATUS_PERIOD) if interval is not None else STATUS_PERIOD
    loop = asyncio.get_running_loop()
    next_ping = loop.time()
    last_status: str | None = None
    while True:
        text = status_provider()
        if text != last_status:
            notifier.status(text)
            last_status = text
        # Half a tick of slack: a sleep may end a hair early, and a skipped ping
        # would leave a whole WatchdogSec between two pings.
        if interval is not None and loop.time() + tick / 2 >= next_ping:
            notifier.watchdog()
            next_ping = loop.time() + interval
        await asyncio.sleep(tick)
