"""Keywords packed closer than mail writes them are removed as one stretch (issue 20).

Each keyword hit costs a handler call; past the hit budget (keywords.BURST units, then one
per keywords.PACE characters) a dense stretch is not read hit by hit but removed whole, so
that no input runs slower than a few MB/s and nothing hides in such a stretch. Mail as
people write it, config files and logs included, stays under the budget and is redacted
value by value.
"""

from __future__ import annotations

from ingest.redact import keywords
from ingest.redact.redactor import redact_text

_PROSE = (
    "The export of the call recordings stopped after the update; the job stays pending "
    "and nobody on our side changed anything in the settings since last week.\n"
)


def test_a_planted_password_inside_a_keyword_run_is_removed() -> None:
    runs = "password: " * 5_000
    text = runs + "password: Zq8!vL2#rT9wX\n" + runs
    result = redact_text(text)
    assert "Zq8!vL2#rT9wX" not in result.text
    assert "[credentials removed]" in result.text
    assert len(result.text) < len(text)


def test_a_value_right_after_the_stretch_is_inside_its_reach() -> None:
    text = "key=token=secret=" * 2_000 + "Zq8vL2rT9wXab"
    result = redact_text(text)
    assert "Zq8vL2rT9wXab" not in result.text


def test_after_the_stretch_the_mail_is_read_value_by_value_again() -> None:
    text = "key token secret code login pw " * 2_000 + _PROSE * 10 + "My password is Sommer2024!\n"
    result = redact_text(text)
    assert "Sommer2024" not in result.text
    assert result.text.endswith("My password is [password removed]\n"), result.text[-80:]
    assert result.text.count(_PROSE) >= 8  # the stretch's reach may take the first two


def test_a_log_with_a_keyword_on_every_line_is_not_a_stretch() -> None:
    lines = [
        f"2026-12-07T10:{n // 60 % 60:02d}:{n % 60:02d}Z INFO auth: token refreshed for "
        f"session {n:06d}, next refresh in 300 s\n"
        for n in range(3_000)
    ]
    text = "".join(lines)
    result = redact_text(text)
    assert result.text == text


def test_a_pasted_env_file_is_redacted_value_by_value() -> None:
    lines = []
    for n in range(40):
        lines += [
            f"SERVICE_{n}_URL=https://svc{n}.internal.example\n",
            f"SERVICE_{n}_PASSWORD=Pw{n:02d}!xQ7zL9mK\n",
            f"SERVICE_{n}_API_KEY=ak_{n:02d}Zq8vL2rT9wXab7Cd\n",
            f"SERVICE_{n}_TIMEOUT=30\n",
        ]
    text = "".join(lines)
    result = redact_text(text)
    assert "[credentials removed]" not in result.text
    for n in range(40):
        assert f"Pw{n:02d}!xQ7zL9mK" not in result.text
        assert f"ak_{n:02d}Zq8vL2rT9wXab7Cd" not in result.text
        assert f"SERVICE_{n}_TIMEOUT=30\n" in result.text
        assert f"SERVICE_{n}_URL=https://svc{n}.internal.example\n" in result.text


def test_the_budget_refills_with_the_text_read() -> None:
    budget = keywords.HitBudget(at=0)
    spent = 0
    while budget.take(0, 1):
        spent += 1
    assert spent == keywords.BURST
    assert not budget.take(keywords.PACE - 1, 1)
    assert budget.take(keywords.PACE * 2, 1)


def test_a_long_auth_log_is_kept_line_by_line() -> None:
    """sshd's auth.log has a password word on every line: past the rate its hits are read
    lightly (nothing after "password for" is a value), never removed as a stretch."""
    lines = [
        f"Dec  7 10:{n // 60 % 60:02d}:{n % 60:02d} gw sshd[{4000 + n}]: Failed password for "
        f"invalid user admin{n % 7} from 203.0.113.{n % 250} port {40000 + n} ssh2\n"
        for n in range(4_000)
    ]
    text = "".join(lines)
    assert redact_text(text).text == text


def test_a_long_settings_dump_is_redacted_value_by_value() -> None:
    """Past the rate, `name.password = value` still loses its value (the light read)."""
    lines = [f"user{n}.password = Xy{n:04d}!abc\nuser{n}.shell = /bin/bash\n" for n in range(3_000)]
    text = "".join(lines)
    result = redact_text(text)
    assert "[credentials removed]" not in result.text
    for n in range(3_000):
        assert f"Xy{n:04d}!abc" not in result.text
    assert result.text.count("user2999.shell = /bin/bash\n") == 1
