"""Unit tests for reply and signature stripping, one client style at a time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.quotes.strip import StrippedReply, strip_html_reply, strip_reply


def test_gmail_on_wrote_with_quoted_lines() -> None:
    result = strip_reply(
        "Thanks, that fixed it.\n\n"
        "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <megan@example.com> wrote:\n\n"
        "> Please restart the service.\n> \n> Megan\n"
    )
    assert result == StrippedReply(
        visible="Thanks, that fixed it.",
        quoted="On Mon, Apr 2, 2012 at 6:26 PM, Megan One <megan@example.com> wrote:\n\n"
        "> Please restart the service.\n> \n> Megan",
        signature="",
    )


def test_multi_line_attribution_is_quoted_and_joined() -> None:
    result = strip_reply(
        "Works now.\n\nOn Dec 16, 2011, at 12:47 PM, Corey Donohoe\n"
        "<reply@reply.github.com>\nwrote:\n\n> Was this caching related?\n"
    )
    assert result.visible == "Works now."
    assert result.quoted.startswith(
        "On Dec 16, 2011, at 12:47 PM, Corey Donohoe <reply@reply.github.com> wrote:\n"
    )


def test_attribution_without_quote_marks_takes_the_rest() -> None:
    result = strip_reply("This is my reply.\n\nOn Nov 26, 2013 you wrote:\n\nThis is my quote.")
    assert result.visible == "This is my reply."
    assert result.quoted == "On Nov 26, 2013 you wrote:\n\nThis is my quote."


@pytest.mark.parametrize(
    "header",
    [
        "From: Support <support@example.com>\nSent: Monday, March 4, 2024 10:00 AM\n"
        "To: Ann <ann@example.com>\nSubject: RE: Printer",
        "________________________________\nFrom: Support <support@example.com>\n"
        "Sent: Monday, March 4, 2024 10:00\nTo: Ann\nSubject: Printer",
        "*From:* Support [mailto:support@example.com]\n*Sent:* Monday, March 4, 2024\n"
        "*To:* ann@example.com\n*Subject:* Printer",
        "Von: Support <support@example.com>\nGesendet: Montag, 4. März 2024 10:00\n"
        "An: Ann\nBetreff: AW: Drucker",
        "De : Support <support@example.com>\nEnvoyé : lundi 4 mars 2024 10:00\n"
        "À : Ann\nObjet : RE: Imprimante",
        "De: Support <support@example.com>\nEnviado el: lunes, 4 de marzo de 2024 10:00\n"
        "Para: Ann\nAsunto: RE: Impresora",
        "Van: Support <support@example.com>\nVerzonden: maandag 4 maart 2024 10:00\n"
        "Aan: Ann\nOnderwerp: RE: Printer",
        "Da: Support <support@example.com>\nInviato: lunedì 4 marzo 2024 10:00\n"
        "A: Ann\nOggetto: R: Stampante",
        "-----Original Message-----\nFrom: Support <support@example.com>\n"
        "Sent: Monday, March 4, 2024 10:00\nSubject: Printer",
        "-----Ursprüngliche Nachricht-----\nVon: Support\nBetreff: Drucker",
    ],
    ids=["en", "en-web", "en-bold", "de", "fr", "es", "nl", "it", "original", "original-de"],
)
def test_outlook_header_blocks(header: str) -> None:
    text = f"The printer works again.\n\n{header}\n\nPlease try turning it off and on.\n"
    result = strip_reply(text)
    assert result.visible == "The printer works again."
    assert result.quoted == f"{header}\n\nPlease try turning it off and on."
    assert result.signature == ""


@pytest.mark.parametrize(
    "attribution",
    [
        "Am 04.03.2024 um 10:00 schrieb Max Mustermann <max@example.de>:",
        "Max Mustermann <max@example.de> schrieb am Mo., 4. März 2024, 10:00:",
        "Le 4 mars 2024 à 10:00, Jean Dupont <jean@example.fr> a écrit :",
        "El 4/3/2024 a las 10:00, Juan Pérez <juan@example.es> escribió:",
        "Il giorno lun 4 mar 2024 alle ore 10:00 Anna <anna@example.it> ha scritto:",
        "Op 4 mrt. 2024 om 10:00 heeft Jan <jan@example.nl> het volgende geschreven:",
        "2024-03-04 10:00 GMT+01:00 Rémi <remi@example.com>:",
    ],
    ids=["de", "de-gmail", "fr", "es", "it", "nl", "gmail-date-first"],
)
def test_attributions_in_several_languages(attribution: str) -> None:
    result = strip_reply(f"Danke!\n\n{attribution}\n> Bitte neu starten.\n")
    assert result.visible == "Danke!"
    assert result.quoted == f"{attribution}\n> Bitte neu starten."


def test_apple_mail_quoted_attribution() -> None:
    result = strip_reply("Hello\n> On 22 Aug 2015, at 19:21, Adam <a@example.com> wrote:\n>\n> Hi")
    assert result.visible == "Hello"
    assert result.quoted.startswith("> On 22 Aug 2015")


def test_dash_dash_signature() -> None:
    result = strip_reply("See the log below.\n\n-- \nAnn Example\nExample Ltd\n")
    assert result == StrippedReply("See the log below.", "", "-- \nAnn Example\nExample Ltd")


def test_signature_and_quote_together() -> None:
    result = strip_reply(
        "Yes, please.\n\n--\nrick\n\nOn 1 Feb 2024, at 10:00, Bob <b@example.com> wrote:\n> Ok?"
    )
    assert result.visible == "Yes, please."
    assert result.signature == "--\nrick"
    assert result.quoted.startswith("On 1 Feb 2024")


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Mail for Windows 10",
        "Get Outlook for Android",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Verzonden vanaf mijn iPhone",
    ],
)
def test_mobile_signatures(line: str) -> None:
    result = strip_reply(f"Here is another email\n\n{line}\n")
    assert result == StrippedReply("Here is another email", "", line)


def test_sent_from_in_a_sentence_is_not_a_signature() -> None:
    text = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert strip_reply(text) == StrippedReply(text, "", "")


def test_mobile_signature_above_unmarked_original() -> None:
    result = strip_reply("On my way.\n\nSent from my iPhone\n\nHi, are you coming today?\n")
    assert result == StrippedReply("On my way.", "Hi, are you coming today?", "Sent from my iPhone")


def test_interleaved_reply_keeps_text_below_quotes() -> None:
    result = strip_reply(
        "On Tue, Apr 29, 2014 at 4:22 PM, Tim <tim@example.com> wrote:\n\n"
        "> Can you check the logs?\n\nI checked them, nothing there.\n\n"
        "> And the disk?\n\nThe disk is full.\n\n-- \nAnn\n"
    )
    assert result.visible == "I checked them, nothing there.\nThe disk is full."
    assert "> Can you check the logs?" in result.quoted
    assert "> And the disk?" in result.quoted
    assert result.signature == "-- \nAnn"


def test_bottom_posting_keeps_the_answer() -> None:
    result = strip_reply(
        "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Ann wrote:\n> Question?\n\nAnswer."
    )
    assert result.visible == "Hi,\nAnswer."


def test_wrapped_tail_of_a_long_quoted_line_stays_quoted() -> None:
    result = strip_reply(
        "Thanks.\n\nOn Mon, 4 Mar 2024 at 10:00, Ann <ann@example.com> wrote:\n"
        "> Lorem ipsum dolor sit amet, consectetur adipiscing elit. Nullam pharetra d\n"
        "ignissim odio?\n>\n> Ann\n"
    )
    assert result.visible == "Thanks."
    assert "ignissim odio?" in result.quoted


def test_prose_that_looks_like_a_header_stays_visible() -> None:
    text = (
        "On your remote host you can run:\n\n    telnet 127.0.0.1 52698\n\n"
        "Something wrote:\nmore text\n"
    )
    assert strip_reply(text) == StrippedReply(text.rstrip("\n"), "", "")


def test_bullet_list_is_not_a_sign_off() -> None:
    text = "Steps:\n\n- restart\n- check the logs"
    assert strip_reply(text) == StrippedReply(text, "", "")


def test_short_dash_sign_off() -> None:
    result = strip_reply("Works for me.\n\n-Abhishek Kona\n")
    assert result == StrippedReply("Works for me.", "", "-Abhishek Kona")


def test_pure_forward_shows_the_full_text() -> None:
    text = "---------- Forwarded message ---------\nFrom: Ann <a@example.com>\nDate: Mon\n\nHi"
    assert strip_reply(text) == StrippedReply(text, "", "")


def test_only_a_signature_above_the_quote_is_shown() -> None:
    result = strip_reply("Sent from my iPhone\n\nOn 1 Feb 2024, Bob <b@example.com> wrote:\n> Hi")
    assert result.visible == "Sent from my iPhone"
    assert result.signature == ""


def test_crlf_and_empty_input() -> None:
    result = strip_reply("Yes\r\n\r\nOn 1 Feb 2024, Bob <b@example.com> wrote:\r\n> Hi\r\n")
    assert result == StrippedReply("Yes", "On 1 Feb 2024, Bob <b@example.com> wrote:\n> Hi", "")
    assert strip_reply("") == StrippedReply("", "", "")
    assert strip_reply(" \n\n") == StrippedReply("", "", "")


def test_html_gmail_quote() -> None:
    html = (
        '<div dir="ltr">Hi. I am <b>fine</b>.<br><br>Thanks,<br>Alex</div>'
        '<div class="gmail_quote">On Thu, Jun 26, 2014 at 2:14 PM, Sasha &lt;a@example.com&gt;'
        " wrote:<br><blockquote>Hello! How are you?</blockquote></div>"
    )
    assert strip_html_reply(html) == "Hi. I am fine.\n\nThanks,\nAlex"


def test_html_outlook_block_after_rule() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Done &amp; dusted, see <a href='https://example.com/t/1'>the ticket</a>.</p>"
        "<hr><p><b>From:</b> Ann<br><b>Sent:</b> Monday<br><b>To:</b> Bob<br>"
        "<b>Subject:</b> Test</p><p>Old text</p></body></html>"
    )
    assert strip_html_reply(html) == "Done & dusted, see the ticket <https://example.com/t/1>."


def test_html_nested_blockquotes_and_unclosed_tags() -> None:
    html = "<p>New text<p>more<blockquote><div>old<blockquote>older</div></blockquote>"
    assert strip_html_reply(html) == "New text\nmore"


@pytest.mark.parametrize(
    "text",
    [
        "On " * 200_000,
        ("On 1 Feb 2024, x wrote\n" * 50_000),
        ("\n-a\n" * 50_000),
        ("From: a\n" * 50_000),
        (">" * 500_000 + "\n" + "a" * 500_000),
        ("x <a@b" * 100_000 + ">:\n") * 3,
        ("> " + "word " * 20 + "\ntail\n") * 20_000,
    ],
    ids=["on-line", "on-lines", "dash-lines", "from-lines", "long-lines", "address", "wrapped"],
)
def test_pathological_input_is_linear(text: str) -> None:
    started = time.process_time()
    strip_reply(text)
    assert time.process_time() - started < 10.0  # CPU seconds; backtracking would take hours


def test_pathological_html_is_linear() -> None:
    html = "<div>" * 20_000 + "<blockquote>x" * 20_000 + "</div>" * 40_000
    started = time.process_time()
    strip_html_reply(html)
    assert time.process_time() - started < 10.0  # CPU seconds; backtracking would take hours


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab >-_:@\n\r1On wrote"))))
def test_visible_never_empty_when_there_is_text(text: str) -> None:
    result = strip_reply(text)
    assert bool(result.visible) == bool(text.strip())
