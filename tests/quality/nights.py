"""A night in the journal, made without the service: rows as the supervisor records them,
thumbnails as the workers leave them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from dataman.core.config import Config
from dataman.core.facts import FrameFacts
from dataman.core.quality import AmpQuality, Finding, QualityReport
from dataman.core.quality.thumbnail import thumbnail_path, thumbnail_png
from dataman.service.journal import Journal
from dataman.sim.frames import DEFAULT_BIAS

NIGHT = "20251230"
#: 01:00 UTC on 2025-12-30: inside observing night 20251230 (utcOffset 7).
FIRST = datetime(2025, 12, 30, 1, 0, tzinfo=UTC).timestamp()
QUADRANTS = {"IM1": 3, "IM2": 4, "IM3": 1, "IM4": 2}
KINDS = ("BIAS", "FLAT", "COMP", "OBJECT")
CHANNELS = ("mods1b", "mods1r")


def flagged_report(number: int) -> QualityReport | None:
    """Every 10th frame: IM2 dead (BAD); every 7th: IM3 saturated (WARN); else clean."""
    findings: tuple[Finding, ...] = ()
    if number % 10 == 0:
        findings = (Finding("IM2:dead", "IM2 data constant (spread 0.00 DN below 0.5)"),)
    elif number % 7 == 0:
        findings = (Finding("IM3:sat", "IM3 5.00% of pixels at 65535 (limit 1.00%)"),)
    return QualityReport(findings, ()) if findings else None


def fill_night(config: Config, count: int, *, cadence: float = 60.0, failed: int = 0,
               thumbnails: bool = True) -> list[str]:
    """``count`` delivered frames (and ``failed`` failed ones) in the journal; their names."""
    rng = np.random.default_rng(5)
    image = rng.normal(0, 3, (64, 256)).astype(">f4")
    image[30:34] += 500  # a spectrum's trace
    png = thumbnail_png(image)
    names = []
    with Journal.open(config.paths.state_dir) as journal:
        for index in range(count + failed):
            channel = CHANNELS[index % 2]
            name = f"{channel}.{NIGHT}.{index // 2 + 1:04d}.fits"
            names.append(name)
            at = FIRST + index * cadence
            frame_id = journal.request(name, f"/data/{channel}/{name}", channel, "datagram",
                                       at).id
            journal.start(frame_id, pid=100, now=at + 0.01)
            if index >= count:
                journal.failed(frame_id, f"{name}: not a readable FITS file", at + 0.2)
                continue
            flagged = flagged_report(index + 1)
            amps = tuple(AmpQuality(amp, quadrant, DEFAULT_BIAS[amp] + rng.normal(0, 0.3),
                                    3.5 + rng.normal(0, 0.02), 0.0)
                         for amp, quadrant in QUADRANTS.items())
            report = QualityReport(flagged.findings if flagged else (), amps)
            facts = FrameFacts("full", "1x1", KINDS[index % 4], 0.0 if index % 4 == 0 else 300.0,
                               "NGC 1976")
            journal.processed(frame_id, f"/proc/{NIGHT}/{name}", name, {"read": 0.1}, 0,
                              at + 0.6 + 0.1 * (index % 3), delivered_path=f"/newdata/{name}",
                              facts=facts, quality=report)
            if thumbnails:
                path = thumbnail_path(config.paths.state_dir, NIGHT, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png)
    return names
