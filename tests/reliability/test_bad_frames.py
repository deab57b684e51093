"""Bad raw files sent to a running service: each fails with a log line naming the file
and a reason in the journal, or (CONPARS missing) is delivered with a warning; no output."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from tests.service_harness import frames

pytestmark = pytest.mark.slow


def rewrite(path, change):
    with fits.open(path) as hdus:
        hdus = fits.HDUList([hdu.copy() for hdu in hdus])
    change(hdus)
    path.unlink()
    hdus.writeto(path)


def patch(path, old: bytes, new: bytes):
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.write_bytes(data.replace(old, new, 1))


def keep_part(fraction_or_bytes):
    def cut(path):
        data = path.read_bytes()
        size = fraction_or_bytes if isinstance(fraction_or_bytes, int) else \
            int(len(data) * fraction_or_bytes)
        path.write_bytes(data[:size])
    return cut


def pixels_of(path, extension: str) -> int:
    """Byte offset of an extension's pixel data."""
    with fits.open(path) as hdus:
        return hdus[extension].fileinfo()["datLoc"]


def set_header(index, key, value):
    return lambda path: rewrite(path, lambda hdus: hdus[index].header.__setitem__(key, value))


def replace_hdu(index, make):
    def change(hdus):
        hdus[index] = make(hdus[index])
    return lambda path: rewrite(path, change)


# case -> (how to spoil the file, text expected in the reason)
CASES = {
    "zero bytes": (keep_part(0), "file is empty"),
    "truncated in a header": (keep_part(4000), "truncated"),
    "truncated in the pixels": (lambda p: keep_part(pixels_of(p, "IM4") + 1000)(p),
                                "truncated in the data after IM3"),
    "not FITS": (lambda p: p.write_text("a shopping list\n" * 400), "not a readable FITS"),
    "IM3 missing": (lambda p: rewrite(p, lambda h: h.pop(3)), "missing extension IM3"),
    "CONPARS missing": (lambda p: rewrite(p, lambda h: h.pop(5)), None),
    "shapes differ": (replace_hdu(4, lambda h: fits.ImageHDU(h.data[:, :-3], h.header)),
                      "differ in shape"),
    "BITPIX 32": (replace_hdu(2, lambda h: fits.ImageHDU(h.data.astype(np.int32), h.header)),
                  "BITPIX 32"),
    "negative NAXIS1": (lambda p: patch(p, b"NAXIS1  =                  288",
                                        b"NAXIS1  =                 -288"), "not a readable"),
    "REF-PIX1 outside the detector": (set_header(0, "REF-PIX1", 99999), "REF-PIX1"),
    "OVRSCAN1 absurd": (set_header(1, "OVRSCAN1", -4), "OVRSCAN1"),
    "non-ASCII header text": (lambda p: patch(p, b"'NGC 1976'", "'NGC 1976\xe9".encode(
        "latin-1")), "non-ASCII"),
}


def test_bad_raw_files(service_factory, campaign):
    service = service_factory(service={"waitForWrite": 1}).start()
    raws = frames(service, len(CASES) + 1)
    for raw, (spoil, _) in zip(raws, CASES.values(), strict=False):
        spoil(raw)
        service.send(raw)
    good = raws[-1]
    service.send(good)
    names = [raw.name for raw in raws]
    campaign.settle(service, names, timeout=60)
    log = service.log_text()
    results = []
    for raw, (case, (_, reason_text)) in zip(raws, CASES.items(), strict=False):
        tally = campaign.count(service, [raw.name])
        reason = tally.reasons.get(raw.name, "")
        if reason_text is None:  # processed anyway: temperatures are simply unknown
            ok = tally.delivered == 1 and f"{raw.name}: CONPARS table missing" in log
            observed = "delivered with warning 'CONPARS table missing; temperatures unknown'"
            expected = "delivered, warning logged"
        else:
            ok = tally.failed == 1 and reason_text in reason and \
                f"{raw.name}: failed: " in log
            observed = f"log '{raw.name}: failed: ...'; reason: {reason[:100]}"
            expected = "fails, reason + log line naming the file, no output"
        results.append(campaign.conclude(f"raw file: {case}", expected, observed, tally, ok,
                                         check=False))
    assert service.states()[good.name] == "delivered"
    assert all(results), [case for case, ok in zip(CASES, results, strict=True) if not ok]
    service.check_alive()
