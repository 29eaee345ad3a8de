"""The command line answers bad input with a one-line reason and a status, never a traceback."""

import socket
from pathlib import Path

import pytest

from accountability.services.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ACCOUNTABILITY_DATABASE_URL", "ACCOUNTABILITY_CHECKPOINT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCOUNTABILITY_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        pytest.param(["--role", "member_state"], "a member_state principal needs its country",
                     id="member-state-without-country"),
        pytest.param(["--role", "member_state", "--country", "XYZ"],
                     "unknown country code 'XYZ' (ISO 3166-1 alpha-3)", id="unknown-country"),
        pytest.param(["--role", "officer", "--country", "FRA"],
                     "an officer principal is bound to no country", id="officer-with-country"),
    ],
)  # fmt: skip
def test_a_credential_that_cannot_be_issued_is_refused_with_its_reason(
    capsys: pytest.CaptureFixture[str], arguments: list[str], reason: str
) -> None:
    status = main(["credentials", "create", "--name", "Conduct officer", *arguments])

    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith("accountability credentials: ")
    assert reason in err
    assert "Traceback" not in err
    assert "token" not in out
    assert main(["credentials", "list"]) == 0
    assert capsys.readouterr().out == ""  # nothing was issued


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_an_expiry_must_be_a_positive_number_of_days(
    capsys: pytest.CaptureFixture[str], days: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["credentials", "create", "--role", "oversight", "--name", "Panel",
              "--expires-in-days", days])  # fmt: skip

    assert stopped.value.code == 2
    assert "--expires-in-days: a whole number of 1 or more" in capsys.readouterr().err


def test_a_credential_with_an_expiry_is_issued_and_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["credentials", "create", "--role", "member_state", "--name", "Mission",
                   "--country", "FRA", "--expires-in-days", "30"])  # fmt: skip

    out = capsys.readouterr().out
    assert status == 0
    assert "member_state-fra (member_state of FRA)" in out
    assert " expires " in out
    assert main(["credentials", "list"]) == 0
    assert "active" in capsys.readouterr().out


def test_the_api_without_a_broker_says_so_in_one_line_and_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("ACCOUNTABILITY_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")

    status = main(["api"])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(
        f"accountability api: could not read accountability.command-results at 127.0.0.1:{port}"
    )
    assert "Traceback" not in err
