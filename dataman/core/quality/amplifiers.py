"""The per-amplifier checks: bias band, bias jump, read-noise band, saturation, dead output.

Flags are ``'<amp>:<check>'``: ``dead``, ``bias``, ``biasjump``, ``noise``,
``sat``. A dead amplifier (data constant, or dark in a frame that must be lit)
is reported as dead alone: its bias, noise and saturation then mean nothing.
"""

from __future__ import annotations

from dataman.core.config import Bands, QualityConfig
from dataman.core.quality.pixels import ADC_MAX, AmpPixels
from dataman.core.quality.report import Finding


def dead_reason(name: str, pixels: AmpPixels, bias: float, imagetyp: str,
                settings: QualityConfig) -> str | None:
    """Why the amplifier looks dead, or None when it does not."""
    if pixels.spread < settings.dead_noise and pixels.brightest < ADC_MAX:
        return (f"{name} data constant (spread {pixels.spread:.2f} DN below "
                f"{settings.dead_noise:g})")
    if imagetyp in settings.lit_types and pixels.brightest - bias < settings.lit_min:
        return (f"{name} dark in a {imagetyp} (brightest pixel {pixels.brightest - bias:.1f} DN"
                f" above bias, below {settings.lit_min:g})")
    return None


def amplifier_findings(name: str, bias: float, noise: float, pixels: AmpPixels, *,
                       imagetyp: str, bands: Bands | None, night_median: float | None,
                       settings: QualityConfig) -> list[Finding]:
    """The failed checks of one amplifier, in a fixed order (dead, bias, biasjump, noise, sat).

    ``night_median`` is the night's running bias median for this amplifier and
    binning, None while it rests on too few frames; ``bands`` None (an unknown
    instrument) skips the band checks.
    """
    if settings.check_dead:
        reason = dead_reason(name, pixels, bias, imagetyp, settings)
        if reason is not None:
            return [Finding(f"{name}:dead", reason)]
    found = []
    if settings.check_bias and bands is not None and not (
            bands.bias_min <= bias <= bands.bias_max):
        found.append(Finding(f"{name}:bias", f"{name} bias {bias:.1f} DN outside "
                                             f"{bands.bias_min:g}..{bands.bias_max:g}"))
    if settings.check_bias_jump and night_median is not None and \
            abs(bias - night_median) > settings.bias_jump:
        found.append(Finding(f"{name}:biasjump",
                             f"{name} bias {bias:.1f} DN is {bias - night_median:+.1f} from the "
                             f"night's median {night_median:.1f} (limit {settings.bias_jump:g})"))
    if settings.check_noise and bands is not None and not (
            bands.noise_min <= noise <= bands.noise_max):
        found.append(Finding(f"{name}:noise", f"{name} read noise {noise:.2f} DN outside "
                                              f"{bands.noise_min:g}..{bands.noise_max:g}"))
    if settings.check_saturation and pixels.saturated > settings.saturation_max:
        found.append(Finding(f"{name}:sat", f"{name} {pixels.saturated:.2%} of pixels at "
                                            f"{ADC_MAX} (limit {settings.saturation_max:.2%})"))
    return found
