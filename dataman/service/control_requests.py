"""What the control socket may ask of a running service, and the answers.

The console asks for the snapshot and ``dataman health`` for its line (made from the
snapshot here, so that the command decodes two fields); the console's keys ask
to pause or resume intake, stop the service, retry a failed frame or process a
file by name. Each request is answered at once: nothing here waits for a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dataman.ipc.control import ControlError
from dataman.ipc.datagram import proc_request
from dataman.ipc.protocol import Wire
from dataman.ipc.states import Source
from dataman.service.health import health_reply
from dataman.service.journal import IllegalTransition, UnknownFrame
from dataman.service.snapshot import Gauges, LogRing, snapshot
from dataman.service.supervisor import Supervisor

log = logging.getLogger("dataman")


class ControlRequests:
    """The control socket's handler: ``await requests(op, fields)`` gives the result."""

    def __init__(self, sup: Supervisor, gauges: Gauges, log_ring: LogRing,
                 request_stop: Callable[[str], None]) -> None:
        self.sup, self.gauges, self.log_ring = sup, gauges, log_ring
        self.request_stop = request_stop

    async def __call__(self, op: str, fields: dict[str, Any]) -> dict[str, Any] | Wire:
        sup = self.sup
        if op == "snapshot":
            return snapshot(sup, self.gauges, self.log_ring, sup.now())
        if op == "health":
            now = sup.now()
            return health_reply(snapshot(sup, self.gauges, self.log_ring, now), now)
        if op in ("pause", "resume"):
            sup.pause() if op == "pause" else sup.resume()
            return {"state": str(sup.state)}
        if op == "stop":
            log.info("stop requested from the control socket")
            self.request_stop("stop requested from the control socket")
            return {"state": "stopping"}
        if op == "retry":
            try:
                sup.retry(str(fields.get("name", "")))
            except (UnknownFrame, IllegalTransition) as error:
                raise ControlError(str(error)) from error
            return {}
        if op == "process":
            request = proc_request(str(fields.get("path", "")), sup.config.paths.data_dir)
            if isinstance(request, str):
                raise ControlError(request)
            sup.request_frame(request.name, request.channel, request.path, Source.CONSOLE,
                              "console")
            return {"name": request.name}
        raise ControlError(f"unknown op {op!r}")

