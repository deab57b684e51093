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
from dataclasses import dataclass
from pathlib import Path

from configobj import ConfigObj, ConfigObjError, flatten_errors, get_extra_values
from configobj.validate import Validator

from dataman.core.errors import ConfigError

SPEC_PATH = Path(__file__).with_name("configspec.ini")
#: Exit status of a service that refuses to start on a bad configuration (sysexits EX_CONFIG).
EXIT_CONFIG = 78


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    allowed_senders: tuple[str, ...]
    control_socket: Path
    hostid: str


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
    job_timeout: float
    recycle_after: int


@dataclass(frozen=True)
class ServiceConfig:
    scan_interval: float
    wait_for_write: float
    delivery_retry_max: float
    stop_timeout: float


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
class Config:
    source: Path
    server: ServerConfig
    paths: PathsConfig
    processing: ProcessingConfig
    workers: WorkersConfig
    service: ServiceConfig
    site: SiteConfig
    temperatures: dict[str, SensorMap]
    text: str = dataclasses.field(repr=False, compare=False, default="")


def snake_case(key: str) -> str:
    """``dataDir`` -> ``data_dir``, ``fixDETSEC`` -> ``fix_detsec``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def load_config(path: str | os.PathLike[str], *, check_dirs: bool = True,
                create_dirs: bool = True) -> Config:
    """Read, validate and resolve a configuration file.

    Raises ``ConfigError`` naming the file, the key and the reason for a syntax
    error, a value of the wrong type, an unknown key or section, or (with
    ``check_dirs``) a missing directory that ``makeDirs`` does not allow to create.
    """
    source = Path(path).resolve()
    raw = _read_validated(source)
    config = _build(raw, source)
    if check_dirs:
        prepare_directories(config, create=create_dirs)
    return config


def _read_validated(source: Path) -> ConfigObj:
    if not source.is_file():
        raise ConfigError(f"{source}: no such configuration file")
    try:
        raw = ConfigObj(str(source), configspec=str(SPEC_PATH), file_error=True,
                        raise_errors=True, encoding="utf-8")
    except (ConfigObjError, OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot parse: {error}") from error
    result = raw.validate(Validator(), preserve_errors=True, copy=True)
    problems = [_describe_error(source, sections, key, error)
                for sections, key, error in flatten_errors(raw, result)]
    problems += [f"{source}: {_key_path(sections, name)}: unknown key or section"
                 for sections, name in get_extra_values(raw)]
    if problems:
        raise ConfigError("\n".join(problems))
    return raw


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


def _build(raw: ConfigObj, source: Path) -> Config:
    base = source.parent
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
        text=_effective_text(raw),
    )


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
    start, frames wait for it instead of the service refusing to run.
    """
    paths = config.paths
    required = {"dataDir": paths.data_dir, "procDir": paths.proc_dir,
                "logDir": paths.log_dir, "stateDir": paths.state_dir}
    if paths.make_dirs:
        if not create:
            return
        for directory in (*required.values(), paths.repo_dir):
            directory.mkdir(parents=True, exist_ok=True)
    missing = [f"{config.source}: [paths] {key}: directory {directory} does not exist"
               for key, directory in required.items() if not directory.is_dir()]
    if missing:
        raise ConfigError("\n".join(missing))


def default_config_path() -> Path:
    """``$DATAMAN_CONFIG``, else ``./dataman.ini``, else the repository's embedded default."""
    if "DATAMAN_CONFIG" in os.environ:
        return Path(os.environ["DATAMAN_CONFIG"])
    local = Path("dataman.ini")
    if local.is_file():
        return local
    return Path(__file__).resolve().parents[2] / "dataman.ini"
