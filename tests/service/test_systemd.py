"""The systemd unit, installed as the guide says, passes ``systemd-analyze verify`` and answers
to the name the MODS status display asks for; sd_notify messages reach a real NOTIFY_SOCKET
byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataman.service.sdnotify import Notifier, status_text, watchdog_loop

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "dataMan.service"
GUIDE = REPO / "systemd" / "README.md"
#: modsStatus.pl (rwpogge/MODS2025, Scripts/) runs `systemctl is-active dataMan` and
#: `systemctl is-enabled dataMan`, and shows anything but "active" / "enabled" in red.
STATUS_DISPLAY_NAME = "dataMan"


def installed_name() -> str:
    """The file name the guide's ``install`` line gives the unit in /etc/systemd/system."""
    found = re.findall(r"^install -m 0644 /opt/dataman/systemd/(\S+) /etc/systemd/system/(\S+)$",
                       GUIDE.read_text(), re.M)
    assert len(found) == 1, found
    source, target = found[0]
    assert source == UNIT.name
    return target


def unit_settings(text: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit file, comments skipped, values per key in order."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if match:
            settings.setdefault(match[1], []).append(match[2])
    return settings


def verifiable_copy(folder: Path) -> Path:
    """The unit with a real ExecStart and no User=/Group=, every other line kept.

    verify insists that the binary and the user exist; neither does on a build machine.
    """
    config = folder / "dataman.ini"
    lines = []
    for line in UNIT.read_text().splitlines():
        if line.startswith(("User=", "Group=")):
            continue
        if line.startswith("ExecStart="):
            line = f"ExecStart={sys.executable} -m dataman run -c {config}"
        lines.append(line)
    path = folder / installed_name()
    path.write_text("\n".join(lines) + "\n")
    return path


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    unit = verifiable_copy(tmp_path)
    command = [analyze, "verify"]
    help_text = subprocess.run([analyze, "--help"], capture_output=True, text=True).stdout
    if "--recursive-errors" in help_text:  # systemd >= 250: judge our unit, not the host's
        command.append("--recursive-errors=no")
    result = subprocess.run([*command, str(unit)], capture_output=True, text=True, timeout=60)
    ours = [line for line in result.stderr.splitlines() if unit.name in line]
    assert result.returncode == 0, result.stderr
    assert ours == []


def test_the_unit_answers_to_the_name_the_status_display_asks_for() -> None:
    assert installed_name() == f"{STATUS_DISPLAY_NAME}.service"
    # An alias would not do: `systemctl is-enabled` prints "alias" for one.
    assert "Alias" not in unit_settings(UNIT.read_text())
    guide = GUIDE.read_text()
    assert f"systemctl daemon-reload && systemctl enable --now {STATUS_DISPLAY_NAME}\n" in guide


def test_systemctl_is_enabled_says_enabled_for_the_status_displays_name(tmp_path: Path) -> None:
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        pytest.skip("systemctl is not installed (apt-get install systemd)")
    root = tmp_path / "root"
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    shutil.copy(UNIT, units / installed_name())
    offline = [systemctl, f"--root={root}"]
    enable = subprocess.run([*offline, "enable", STATUS_DISPLAY_NAME], capture_output=True,
                            text=True, timeout=60)
    assert enable.returncode == 0, enable.stderr
    assert (units / "multi-user.target.wants" / installed_name()).is_symlink()
    answer = subprocess.run([*offline, "is-enabled", STATUS_DISPLAY_NAME], capture_output=True,
                            text=True, timeout=60)
    assert (answer.returncode, answer.stdout) == (0, "enabled\n"), answer.stderr


def test_unit_restarts_except_on_bad_config_and_outlasts_graceful_stop() -> None:
    settings = unit_settings(UNIT.read_text())
    assert settings["Type"] == ["notify"]
    assert settings["Restart"] == ["always"]
    assert settings["RestartSec"] == ["10s"]
    assert settings["RestartPreventExitStatus"] == ["78"]
    assert settings["KillMode"] == ["mixed"]
    # The graceful stop finishes in-flight frames for up to 30 s by default.
    assert int(settings["TimeoutStopSec"][0].removesuffix("s")) > 30
    assert settings["StateDirectory"] == ["dataman"]
    for key in ("NoNewPrivileges", "RemoveIPC", "PrivateTmp", "PrivateDevices"):
        assert settings[key] == ["yes"], key
    assert settings["ProtectSystem"] == ["strict"]
    assert set(settings["ReadWritePaths"]) == {
        "-/home/dataman/proc", "-/home/dataman/logs", "-/newdata"}
    # A worker back from a catch-up frame's nice 10 to nice 0 for a live frame.
    assert settings["LimitNICE"] == ["+0"]



def test_remove_ipc_only_for_the_services_own_account() -> None:
    # RemoveIPC=yes removes every IPC object of User= when the unit stops: with a login
    # shared by people (mods) it would remove theirs too. systemd/README.md creates the
    # system account dataman for the service alone.
    settings = unit_settings(UNIT.read_text())
    assert settings["RemoveIPC"] == ["yes"]
    assert settings["User"] == ["dataman"] and settings["Group"] == ["dataman"]
    guide = (REPO / "systemd" / "README.md").read_text()
    assert "useradd --system --user-group --no-create-home --shell /usr/sbin/nologin dataman" \
        in guide


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A datagram socket standing in for systemd, announced in NOTIFY_SOCKET."""
    path = tmp_path / "notify"
    assert len(str(path)) < 100, "AF_UNIX paths are limited to 108 bytes"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        receiver.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield receiver


def received(receiver: socket.socket, count: int) -> list[str]:
    return [receiver.recv(4096).decode() for _ in range(count)]


def test_notifications_arrive_byte_for_byte(notify_socket: socket.socket) -> None:
    notifier = Notifier()
    notifier.ready()
    notifier.status(status_text(0, 3, 0))
    notifier.watchdog()
    notifier.stopping()
    notifier.close()
    assert notifier.enabled
    assert received(notify_socket, 4) == [
        "READY=1", "STATUS=queue 0 done 3 failed 0", "WATCHDOG=1", "STOPPING=1"]


def test_status_with_newline_stays_one_assignment(notify_socket: socket.socket) -> None:
    Notifier().status("queue 1\nREADY=1")
    assert received(notify_socket, 1) == ["STATUS=queue 1 READY=1"]


def test_abstract_namespace_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"dataman-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind("\0" + name)
        receiver.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        Notifier().ready()
        assert received(receiver, 1) == ["READY=1"]


def test_no_notify_socket_is_a_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(tmp_path / "notify"))
        receiver.setblocking(False)
        notifier = Notifier()
        notifier.ready()
        notifier.watchdog()
        # Unix datagrams are queued before sendto returns, so an empty queue is final.
        with pytest.raises(BlockingIOError):
            receiver.recv(4096)
    assert not notifier.enabled
    assert asyncio.run(asyncio.wait_for(watchdog_loop(notifier, lambda: "x"), 1)) is None


def test_send_error_is_logged_not_raised(tmp_path: Path) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("dataman.service.sdnotify")
    # A handler of our own: other tests may have set "dataman" not to propagate.
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")}).ready()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert [record.levelno for record in records] == [logging.DEBUG]
    assert "READY=1" in records[0].getMessage()


@pytest.mark.parametrize(("environ", "interval"), [
    ({"WATCHDOG_USEC": "20000000"}, 10.0),
    ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}, 10.0),
    ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_watchdog_usec_for_this_pid(
        environ: dict[str, str], interval: float | None) -> None:
    assert Notifier({"NOTIFY_SOCKET": "/run/systemd/notify", **environ}).watchdog_interval() \
        == interval


def test_watchdog_loop_pings_and_sends_each_new_status_once(
        notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a ping every 0.1 s
    counts = {"done": 0}
    notify_socket.setblocking(False)

    async def scenario() -> tuple[list[str], float]:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(
            watchdog_loop(Notifier(), lambda: status_text(0, counts["done"], 0)))
        messages: list[str] = []
        start = loop.time()
        try:
            async with asyncio.timeout(5):
                while messages.count("WATCHDOG=1") < 4:
                    messages.append((await loop.sock_recv(notify_socket, 4096)).decode())
                    if messages.count("WATCHDOG=1") == 2:
                        counts["done"] = 1
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return messages, loop.time() - start

    messages, elapsed = asyncio.run(scenario())
    assert [m for m in messages if m.startswith("STATUS=")] == [
        "STATUS=queue 0 done 0 failed 0", "STATUS=queue 0 done 1 failed 0"]
    assert messages[0] == "STATUS=queue 0 done 0 failed 0"
    assert elapsed >= 0.25  # paced at the interval, not a busy loop
