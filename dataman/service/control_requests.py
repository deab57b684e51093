"""What the control socket may ask of a running service, and the answers.

The console asks for the snapshot and ``dataman health`` for its line (made from the
snapshot here, so that the command decodes two fields); the console's keys ask
to pause or resume intake, stop the service, retry a failed frame or process a
file by name. Each request arrives decoded and typed
(:mod:`dataman.ipc.protocol_requests`) and goes to the handler its op names in
one table, so a request and its handler cannot disagree on a field. Each is
answered at once: nothing here waits for a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dataman.ipc.control import ControlError
from dataman.ipc.datagram import proc_request
from dataman.ipc.protocol import Wire
from dataman.ipc.protocol_requests import Op, ProcessRequest, Request, RetryRequest
from dataman.ipc.states import ServiceState, Source
from dataman.service.health import health_reply
from dataman.service.journal import IllegalTransition, UnknownFrame
from dataman.service.snapshot import Gauges, LogRing, snapshot
from dataman.service.supervisor import Supervisor

log = logging.getLogger("dataman")

Answer = dict[str, Any] | Wire


class ControlRequests:
    """The control socket's handler: ``await requests(request)`` gives the result."""

    def __init__(self, sup: Supervisor, gauges: Gauges, log_ring: LogRing,
                 request_stop: Callable[[str], None]) -> None:
        self.sup, self.gauges, self.log_ring = sup, gauges, log_ring
        self.request_stop = request_stop
        #: Op -> its handler, which takes that op's request class (``subscribe`` is the
        #: control server's: it answers with the snapshot).
        self.handlers: dict[Op, Callable[[Any], Answer]] = {
            Op.SNAPSHOT: self.snapshot, Op.HEALTH: self.health, Op.PAUSE: self.pause,
            Op.RESUME: self.resume, Op.STOP: self.stop, Op.RETRY: self.retry,
            Op.PROCESS: self.process}

    async def __call__(self, request: Request) -> Answer:
        handler = self.handlers.get(request.op)
        if handler is None:
            raise ControlError(f"unknown op {request.op.value!r}")
        return handler(request)

    def snapshot(self, request: Request) -> Answer:
        return snapshot(self.sup, self.gauges, self.log_ring, self.sup.now())

    def health(self, request: Request) -> Answer:
        now = self.sup.now()
        return health_reply(snapshot(self.sup, self.gauges, self.log_ring, now), now)

    def pause(self, request: Request) -> Answer:
        self.sup.pause()
        return {"state": self.sup.state.value}

    def resume(self, request: Request) -> Answer:
        self.sup.resume()
        return {"state": self.sup.state.value}

    def stop(self, request: Request) -> Answer:
        log.info("stop requested from the control socket")
        self.request_stop("stop requested from the control socket")
        return {"state": ServiceState.STOPPING.value}

    def retry(self, request: RetryRequest) -> Answer:
        try:
            self.sup.retry(request.name)
        except (UnknownFrame, IllegalTransition) as error:
            raise ControlError(str(error)) from error
        return {}

    def process(self, request: ProcessRequest) -> Answer:
        wanted = proc_request(request.path, self.sup.config.paths.data_dir)
        if isinstance(wanted, str):
            raise ControlError(wanted)
        self.sup.request_frame(wanted.name, wanted.channel, wanted.path, Source.CONSOLE,
                               "console")
        return {"name": wanted.name}
