"""Command datagrams (docs/commands.md): what is accepted, and why everything else is rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataman.ipc.datagram import (
    MAX_DATAGRAM,
    ProcRequest,
    QuitRequest,
    Rejected,
    SenderPolicy,
    encode_proc,
    encode_quit,
    parse_datagram,
)

NAME = "mods1b.20251230.0012.fits"
SERVER_PATH = f"/home/data/mods1b/{NAME}"
LOCAL = ("127.0.0.1", 40123)
POLICY = SenderPolicy.from_config(["127.0.0.1", "::1", "192.168.10.0/24", "fd00:1::/64"])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def parse(payload: bytes, data_dir: Path, sender=LOCAL):
    return parse_datagram(payload, sender, POLICY, data_dir)


def reason_of(payload: bytes, data_dir: Path, sender=LOCAL) -> str:
    result = parse(payload, data_dir, sender)
    assert isinstance(result, Rejected), result
    assert result.reason.startswith(f"from {LOCAL[0]}:{LOCAL[1]}: ") or sender != LOCAL
    return result.reason.split(": ", 1)[1]


@pytest.mark.parametrize("payload", [
    b"proc " + SERVER_PATH.encode(), b"PROC " + SERVER_PATH.encode(), b"Proc " + NAME.encode(),
    b"proc " + SERVER_PATH.encode() + b"\n", b"  proc\t" + SERVER_PATH.encode() + b"\r\n",
    b"proc " + SERVER_PATH.encode() + b"\x00" * 40, b"proc C:\\azcam\\data\\" + NAME.encode(),
])
def test_proc_uses_the_base_name_under_data_dir(payload, data_dir):
    assert parse(payload, data_dir) == ProcRequest(NAME, "mods1b", data_dir / "mods1b" / NAME)


@pytest.mark.parametrize("payload", [b"quit", b"QUIT", b"Quit\n", b"\x00quit\x00\x00"])
def test_quit_in_any_case(payload, data_dir):
    assert parse(payload, data_dir) == QuitRequest()


def test_encoded_commands_are_what_azcam_sends_and_parse_back(data_dir):
    assert encode_proc(SERVER_PATH) == b"proc " + SERVER_PATH.encode()
    assert encode_proc(Path(SERVER_PATH)) == b"proc " + SERVER_PATH.encode()
    assert encode_quit() == b"quit"
    assert parse(encode_proc(SERVER_PATH), data_dir).name == NAME
    assert parse(encode_quit(), data_dir) == QuitRequest()
    with pytest.raises(ValueError, match="more than 1024"):
        encode_proc("/" + "x" * MAX_DATAGRAM)


def test_a_datagram_of_exactly_1024_bytes_is_accepted(data_dir):
    payload = encode_proc(SERVER_PATH).ljust(MAX_DATAGRAM, b"\x00")
    assert isinstance(parse(payload, data_dir), ProcRequest)


def test_an_overlong_datagram_is_rejected_before_decoding(data_dir):
    payload = encode_proc(SERVER_PATH).ljust(MAX_DATAGRAM, b" ") + b"\xff"
    assert reason_of(payload, data_dir) == "datagram of 1025 bytes, more than 1024"


NOT_RAW = " is not a raw frame name (<chan>.<YYYYMMDD>.<NNNN>.fits)"
REJECTIONS = {
    b"": "empty datagram",
    b" \x00\n\x00": "empty datagram",
    b"proc": "'proc' without a file name",
    b"PROC  \n": "'proc' without a file name",
    b"hello world": "unknown command 'hello'",
    b"process " + NAME.encode(): "unknown command 'process'",
    b"rm -rf /": "unknown command 'rm'",
    b"quit now": "'quit' takes no argument",
    b"proc a.fits b.fits": "'proc' takes one file name, got 2 words",
    b"proc /x/" + NAME.encode() + b"\nquit": "more than one line (one command per datagram)",
    b"proc /x/\xff" + NAME.encode(): "not UTF-8 (invalid byte at offset 8)",
    b"proc /x/mods1b.2025\x071230.0012.fits":
        r"control character in file name '/x/mods1b.2025\x071230.0012.fits'",
    b"proc /x/\x1b[2Jmods1b.20251230.0012.fits":
        r"control character in file name '/x/\x1b[2Jmods1b.20251230.0012.fits'",
    b"proc ../../etc/passwd": "'passwd'" + NOT_RAW,
    b"proc /home/data/mods1b/": "''" + NOT_RAW,
    b"proc " + NAME.encode() + b"/..": "'..'" + NOT_RAW,
    b"proc mods3b.20251230.0012.fits": "'mods3b.20251230.0012.fits'" + NOT_RAW,
    "proc mods1b.٢٠٢٥١٢٣٠.0012.fits".encode():
        r"'mods1b.\u0662\u0660\u0662\u0665\u0661\u0662\u0663\u0660.0012.fits'" + NOT_RAW,
}


@pytest.mark.parametrize("payload", list(REJECTIONS))
def test_bad_datagrams_are_rejected_with_a_precise_reason(payload, data_dir):
    assert reason_of(payload, data_dir) == REJECTIONS[payload]


def test_rejection_reasons_are_distinct_and_one_line(data_dir):
    reasons = {reason_of(payload, data_dir).split(" '")[0] for payload in REJECTIONS}
    assert {"empty datagram", "unknown command", "'proc' without a file name",
            "'quit' takes no argument", "more than one line (one command per datagram)",
            "control character in file name"} <= reasons
    assert all(reason.isprintable() for reason in reasons)


@pytest.mark.parametrize("sender", [("127.0.0.1", 1), ("::1", 2, 0, 0), ("192.168.10.77", 3),
                                    ("::ffff:127.0.0.1", 4, 0, 0), ("fd00:1::5", 5, 0, 0),
                                    ("::ffff:192.168.10.9", 6, 0, 0)])
def test_allowed_senders_by_address_network_and_ipv4_mapped(sender, data_dir):
    assert parse(b"quit", data_dir, sender) == QuitRequest()


@pytest.mark.parametrize(("sender", "named"), [
    (("10.0.0.5", 5000), "10.0.0.5:5000"), (("::ffff:10.0.0.5", 1, 0, 0), "[::ffff:10.0.0.5]:1"),
    (("192.168.11.1", 7), "192.168.11.1:7"), (("fd00:2::1", 9, 0, 0), "[fd00:2::1]:9"),
    (("mods1\n", 7), "'mods1\\n':7"), (("", 0), ":0"),
])
def test_other_senders_are_rejected_by_name_before_anything_else(sender, named, data_dir):
    result = parse(b"x" * 5000, data_dir, sender)
    assert result == Rejected(f"from {named}: sender not in allowedSenders")


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.7/24", "300.1.1.1", "", "::ffff:1.2.3.4"])
def test_a_bad_allowed_sender_entry_is_named(entry):
    with pytest.raises(ValueError, match=f"allowed sender {entry!r}"):
        SenderPolicy.from_config(["127.0.0.1", entry])


def test_a_symlinked_channel_folder_pointing_outside_data_dir_is_rejected(data_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (data_dir / "mods1b").symlink_to(outside)
    reason = reason_of(encode_proc(SERVER_PATH), data_dir)
    outside, data_dir = outside.resolve(), data_dir.resolve()
    assert reason == f"{NAME} resolves to '{outside / NAME}', outside dataDir {data_dir}"


def test_a_symlinked_frame_pointing_outside_data_dir_is_rejected(data_dir, tmp_path):
    (tmp_path / "secret").write_text("not a frame")
    (data_dir / "mods1b").mkdir()
    (data_dir / "mods1b" / NAME).symlink_to(tmp_path / "secret")
    assert "outside dataDir" in reason_of(encode_proc(SERVER_PATH), data_dir)


def test_links_inside_data_dir_and_a_linked_data_dir_are_fine(data_dir, tmp_path):
    (data_dir / "disk2").mkdir()
    (data_dir / "mods1b").symlink_to(data_dir / "disk2")
    (tmp_path / "link").symlink_to(data_dir)
    result = parse(encode_proc(SERVER_PATH), tmp_path / "link")
    assert result == ProcRequest(NAME, "mods1b", tmp_path / "link" / "mods1b" / NAME)


def test_a_frame_not_yet_visible_is_accepted(tmp_path):
    """Delayed NFS: neither the channel folder nor the file exist yet."""
    result = parse(encode_proc(SERVER_PATH), tmp_path / "not-yet")
    assert result == ProcRequest(NAME, "mods1b", tmp_path / "not-yet" / "mods1b" / NAME)


OPEN = SenderPolicy.from_config(["0.0.0.0/0", "::/0"])
DATA = Path("/nonexistent/dataman/data")
ADDRESSES = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "fd00:1::5%eth0"]
any_sender = st.tuples(st.text(max_size=40), st.integers())
allowed_sender = st.one_of(
    st.tuples(st.sampled_from(ADDRESSES), st.integers(0, 65535)),
    st.tuples(st.sampled_from(ADDRESSES), st.integers(0, 65535), st.integers(0, 2**20),
              st.integers(0, 2**32 - 1)),
)
RAW = r"mods[12][br]\.[0-9]{8}\.[0-9]{4}\.fits"
commands = st.one_of(
    st.binary(max_size=1100),
    st.text(max_size=200).map(str.encode),
    st.builds(lambda word, rest: f"{word} {rest}".encode(),
              st.sampled_from(["proc", "PROC", "quit", "Proc"]), st.text(max_size=120)),
    st.from_regex(rf"\A[ \t\n\x00]*(proc|PROC)[ \t]+[a-z0-9_./\\]*{RAW}[ \t\n\x00]*\Z")
      .map(str.encode),
    st.from_regex(rf"\Aproc [\w./\\\x00-\x1f]*{RAW}\Z").map(str.encode),
)


def assert_well_formed(result) -> None:
    assert isinstance(result, ProcRequest | QuitRequest | Rejected)
    if isinstance(result, Rejected):
        assert result.reason.startswith("from ") and result.reason.isprintable()
    if isinstance(result, ProcRequest):
        assert result.path == DATA / result.channel / result.name


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=1100) | commands, sender=any_sender | allowed_sender,
       policy=st.sampled_from([POLICY, OPEN]))
def test_no_datagram_from_any_sender_makes_the_parser_raise(payload, sender, policy):
    assert_well_formed(parse_datagram(payload, sender, policy, DATA))


@settings(max_examples=300, deadline=None)
@given(payload=commands, sender=allowed_sender)
def test_no_command_from_an_allowed_sender_makes_the_parser_raise(payload, sender):
    assert_well_formed(parse_datagram(payload, sender, POLICY, DATA))
