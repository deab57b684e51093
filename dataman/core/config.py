"""Reading and validating ``dataman.ini``.

The file is checked against ``configspec.ini`` with configobj's validator, so
every key has a type and a default, and an operator's typo is reported with
the file, the key and the reason instead of being ignored. The result is a
tree of frozen dataclasses whose field names are the operators' key names in
snake case (``dataDir`` becomes ``data_dir``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from configobj import ConfigObj, ConfigObjError, Section, flatten_errors, get_extra_values
from configobj.validate import ValidateError, Validator

from dataman.core.errors import ConfigError
from dataman.core.reference_yaml import is_empty, is_reference_yaml, to_sections
from dataman.core.senders import sender_problems

SPEC_PATH = Path(__file__).with_name("configspec.ini")
#: Used when no configuration is named and none is found; relative paths in it are
#: relative to the per-user folder (``user_folder``), not to the file's own folder.
PACKAGED_CONFIG = Path(__file__).with_name("default.ini")
#: Where the systemd unit and the operators keep the instrument server's configuration.
SYSTEM_CONFIG = Path("/etc/dataman/dataman.ini")
#: Exit status of a service that refuses to start on a bad configuration (sysexits EX_CONFIG).
EXIT_CONFIG = 78


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    allowed_senders: tuple[str, ...]
    control_socket: Path
    hostid: str
    log_level: str  # "INFO" or "DEBUG"


@dataclass(frozen=True)
class PathsConfig:
    data_dir: Path
    proc_dir: Path
    repo_dir: Path
    log_dir: Path
    state_dir: Path
    make_dirs: bool


@dataclass(frozen=True)
class ProcessingConfig:
    fix_detsec: bool
    fix_date_time: bool
    fix_temps: bool
    fix_misc: bool
    make_otm: bool
    bias_col_skip: int
    bias_row_skip: int
    fsync: bool


@dataclass(frozen=True)
class WorkersConfig:
    count: int
    slots: int
    #: The readout window (``ROI_MODES``) each slot is sized for, unbinned.
    slot_size: str
    job_timeout: float
    recycle_after: int
    live_reserve: int


@dataclass(frozen=True)
class ServiceConfig:
    scan_interval: float
    wait_for_write: float
    delivery_retry_max: float
    stop_timeout: float
    #: False: shadow mode, procDir only; repoDir is never written (``[service] deliver``).
    deliver: bool


@dataclass(frozen=True)
class SiteConfig:
    latitude: float
    longitude: float  # degrees West, as the LONGITUD keyword
    elevation: float
    utc_offset: float


@dataclass(frozen=True)
class SensorMap:
    """CONPARS keywords holding one instrument's CCD, base and backplane temperatures."""

    ccd: str
    base: str
    backplane: str


@dataclass(frozen=True)
class Bands:
    """One instrument's accepted bias level and read noise (overscan median and std, DN)."""

    bias_min: float
    bias_max: float
    noise_min: float
    noise_max: float


@dataclass(frozen=True)
class QualityConfig:
    """The ``[quality]`` section: which checks run and their thresholds."""

    checks: bool
    check_bias: bool
    check_bias_jump: bool
    check_noise: bool
    check_saturation: bool
    check_dead: bool
    check_header: bool
    check_image_type: bool
    bias_jump: float
    bias_jump_after: int
    saturation_max: float
    dead_noise: float
    lit_types: tuple[str, ...]
    lit_min: float
    bias_light: float
    flat_min: float
    flat_max: float
    line_min: float
    comp_min_lines: int
    object_light: float
    thumbnails: bool
    thumbnail_nights: int
    bands: dict[str, Bands]


@dataclass(frozen=True)
class Config:
    source: Path
    server: ServerConfig
    paths: PathsConfig
    processing: ProcessingConfig
    workers: WorkersConfig
    service: ServiceConfig
    site: SiteConfig
    temperatures: dict[str, SensorMap]
    quality: QualityConfig
    text: str = dataclasses.field(repr=False, compare=False, default="")
    #: Sections the file lacks, filled with defaults, e.g. ``("[workers]",)``.
    defaulted: tuple[str, ...] = ()


def snake_case(key: str) -> str:
    """``dataDir`` -> ``data_dir``, ``fixDETSEC`` -> ``fix_detsec``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def load_config(path: str | os.PathLike[str], *, check_dirs: bool = True,
                create_dirs: bool = True) -> Config:
    """Read, validate and resolve a configuration file.

    The file is a ``dataman.ini`` or the reference dataMan's YAML file, told apart
    by its first significant line (:mod:`dataman.core.reference_yaml`). Raises
    ``ConfigError`` naming the file, the key and the reason for a syntax error, an
    empty file, a value of the wrong type, an unknown key or section, or (with
    ``check_dirs``) a missing directory that ``makeDirs`` does not allow to create.
    """
    source = Path(path).resolve()
    raw, missing = _read_validated(source)
    config = _build(raw, source, missing)
    if check_dirs:
        prepare_directories(config, create=create_dirs)
    return config


def _read_validated(source: Path) -> tuple[ConfigObj, list[tuple[str, ...]]]:
    """The validated file, defaults filled in, and the sections that were missing."""
    if not source.is_file():
        raise ConfigError(f"{source}: no such configuration file")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot read: {error}") from error
    if is_empty(text):
        raise ConfigError(f"{source}: empty: no section and no key in it (a truncated copy?); "
                          "a file of defaults only names a section, e.g. [paths]")
    infile = to_sections(text, source) if is_reference_yaml(text) else text.splitlines()
    try:
        raw = ConfigObj(infile, configspec=str(SPEC_PATH), raise_errors=True,
                        encoding="utf-8")
    except ConfigObjError as error:
        raise ConfigError(f"{source}: cannot parse: {error}") from error
    raw.filename = str(source)  # named in the effective text; never written back
    missing = list(_missing_sections(raw, raw.configspec))
    result = raw.validate(Validator({"sender_list": sender_list}), preserve_errors=True,
                          copy=True)
    problems = [_describe_error(source, sections, key, error)
                for sections, key, error in flatten_errors(raw, result)]
    problems += [f"{source}: {_key_path(sections, name)}: unknown key or section"
                 for sections, name in get_extra_values(raw)]
    if problems:
        raise ConfigError("\n".join(problems))
    for sections in missing:
        _mark_defaulted(raw, sections)
    return raw, missing


def _missing_sections(raw: Section, spec: Section,
                      above: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Sections (as name paths) the configspec has and the file lacks, outermost only."""
    for name in spec.sections:
        if name not in raw:
            yield (*above, name)
        else:
            yield from _missing_sections(raw[name], spec[name], (*above, name))


def _mark_defaulted(raw: ConfigObj, sections: tuple[str, ...]) -> None:
    """Say, in the effective text, that a section came from the defaults alone."""
    parent: Section = raw
    for name in sections[:-1]:
        parent = parent[name]
    note = f"# {_key_path(sections, None)}: not in the file, every key at its default"
    parent.comments[sections[-1]] = [*parent.comments.get(sections[-1], []), note]


class BadSenders(ValidateError):
    """``allowedSenders`` holds entries that are not addresses or networks."""


def sender_list(value: str | list[str], *args: object, **kwargs: object) -> list[str]:
    """The ``sender_list`` check of configspec.ini: one entry or a comma-separated list.

    configobj reads a value without a comma as a string, so a single camera host
    (``allowedSenders = 10.99.0.0/16``) is a one-entry list here, not a type error.
    Every bad entry is named at once, so one ``config --check`` shows them all.
    """
    entries = [value] if isinstance(value, str) else [str(entry) for entry in value]
    if not entries:
        raise BadSenders("no address or network given (every datagram would be dropped)")
    problems = sender_problems(entries)
    if problems:
        raise BadSenders(f"{len(problems)} bad {'entry' if len(problems) == 1 else 'entries'}:"
                         f" {', '.join(problems)}")
    return [entry.strip() for entry in entries]


def _key_path(sections: tuple[str, ...] | list[str], key: str | None) -> str:
    where = "".join(f"[{name}]" for name in sections)
    return f"{where} {key}".strip() if key else where


def _describe_error(source: Path, sections, key, error) -> str:
    if error is False:
        reason = "missing section" if key is None else "missing value"
    else:
        reason = str(error)
    return f"{source}: {_key_path(sections, key)}: {reason}"


def _section(cls, values, **overrides):
    fields = {snake_case(key): value for key, value in values.items()
              if not isinstance(value, dict)}
    fields.update(overrides)
    return cls(**fields)


def _build(raw: ConfigObj, source: Path, missing: list[tuple[str, ...]]) -> Config:
    if raw["server"]["port"] == 0 and not raw["service"]["scanInterval"]:
        raise ConfigError(f"{source}: [server] port = 0 (no UDP) needs [service] scanInterval"
                          " above 0: without datagrams, the scan is what finds the frames")
    base = user_folder() if source == PACKAGED_CONFIG.resolve() else source.parent
    paths = {key: (base / value).resolve() for key, value in raw["paths"].items()
             if key != "makeDirs"}
    path_config = _section(PathsConfig, {**paths, "makeDirs": raw["paths"]["makeDirs"]})
    server = raw["server"]
    control = path_config.state_dir / server["controlSocket"]
    server_config = _section(ServerConfig, server, control_socket=control,
                             allowed_senders=tuple(server["allowedSenders"]))
    temperatures = {name.upper(): _section(SensorMap, values)
                    for name, values in raw["temperatures"].items()}
    return Config(
        source=source,
        server=server_config,
        paths=path_config,
        processing=_section(ProcessingConfig, raw["processing"]),
        workers=_section(WorkersConfig, raw["workers"],  # slots 0: one per worker
                         slots=raw["workers"]["slots"] or raw["workers"]["count"]),
        service=_section(ServiceConfig, raw["service"]),
        site=_section(SiteConfig, raw["site"]),
        temperatures=temperatures,
        quality=_quality(raw["quality"], source),
        text=_effective_text(raw),
        defaulted=tuple(_key_path(sections, None) for sections in missing),
    )


def _quality(values: Section, source: Path) -> QualityConfig:
    """``[quality]``, its bands checked to be ranges (min below max)."""
    bands = {name.upper(): _section(Bands, band) for name, band in values.items()
             if isinstance(band, dict)}
    problems = [f"{source}: [quality][{name}] {key}Min {low:g} is not below {key}Max {high:g}"
                for name, band in bands.items()
                for key, low, high in (("bias", band.bias_min, band.bias_max),
                                       ("noise", band.noise_min, band.noise_max))
                if low >= high]
    if problems:
        raise ConfigError("\n".join(problems))
    lit_types = tuple(str(kind).strip().upper() for kind in values["litTypes"])
    return _section(QualityConfig, values, lit_types=lit_types, bands=bands)


def _effective_text(raw: ConfigObj) -> str:
    """The validated configuration, defaults filled in, as ini text."""
    filename, raw.filename = raw.filename, None
    raw.initial_comment = [f"# effective configuration of {filename}"]
    try:
        return "\n".join(raw.write()) + "\n"
    finally:
        raw.filename = filename


def prepare_directories(config: Config, *, create: bool = True) -> None:
    """Create the working directories when ``makeDirs`` allows, else require them.

    ``repoDir`` (the staging disk, usually NFS) is exempt: if it is missing at
    start, frames wait for it instead of the service refusing to run. In shadow
    mode (``[service] deliver = False``) it is not even created: it is not ours.
    """
    paths = config.paths
    required = {"dataDir": paths.data_dir, "procDir": paths.proc_dir,
                "logDir": paths.log_dir, "stateDir": paths.state_dir}
    if paths.make_dirs:
        if not create:
            return
        ours = [paths.repo_dir] if config.service.deliver else []
        for directory in (*required.values(), *ours):
            directory.mkdir(parents=True, exist_ok=True)
    missing = [f"{config.source}: [paths] {key}: directory {directory} does not exist"
               for key, directory in required.items() if not directory.is_dir()]
    if missing:
        raise ConfigError("\n".join(missing))


def default_config_path() -> Path:
    """The configuration to use when none is named; see :func:`find_config`."""
    return find_config()[0]


def find_config(named: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The configuration file to use and why, in the documented order.

    ``named`` (``-c``), ``$DATAMAN_CONFIG``, ``./dataman.ini``,
    ``/etc/dataman/dataman.ini``, then the packaged default, whose folders lie
    under :func:`user_folder`. A file named by ``-c`` or the variable is used
    even if it does not exist, so a typo is reported rather than passed over.
    """
    if named is not None:
        return Path(named), "given with -c"
    if os.environ.get("DATAMAN_CONFIG"):
        return Path(os.environ["DATAMAN_CONFIG"]), "from $DATAMAN_CONFIG"
    for candidate, why in ((Path("dataman.ini"), "found in the current folder"),
                           (SYSTEM_CONFIG, "the system configuration")):
        if candidate.is_file():
            return candidate, why
    return PACKAGED_CONFIG, (f"the packaged default: none given with -c or $DATAMAN_CONFIG, "
                             f"no ./dataman.ini, no {SYSTEM_CONFIG}; its relative paths are "
                             f"under {user_folder()}")


def user_folder() -> Path:
    """Where the packaged default keeps everything: ``$XDG_STATE_HOME/dataman``,
    else ``~/.local/state/dataman``."""
    state_home = os.environ.get("XDG_STATE_HOME")
    if state_home and Path(state_home).is_absolute():
        return Path(state_home) / "dataman"
    return Path.home() / ".local" / "state" / "dataman"


def with_synced_writes(config: Config) -> Config:
    """``config`` with ``[processing] fsync`` on: each output is on disk before it is named.

    For work in the background of live frames (catch-up, reprocessing beside the
    service): its written data never piles up in the page cache, where the kernel would
    make every writer, a live frame's worker too, wait for the disk once too much is dirty.
    """
    return dataclasses.replace(config, processing=dataclasses.replace(config.processing,
                                                                      fsync=True))
