"""The word lists the classifier matches: bounce subjects and notice phrases, mail-system
senders, auto-reply subject prefixes.

Kept apart from the decision code so a new MTA's wording is a one-line change. Every
pattern is matched case-insensitively against decoded text.
"""

from __future__ import annotations

import re

REPLY_OR_FORWARD_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|ynt|odp|fw|fwd|wg|tr|rv|enc|doorst|vb|i|r)\s*(?:\[\d+\])?\s*:",
    re.IGNORECASE,
)
"""A subject a person wrote when replying to or forwarding something ("Re:", "Fwd:", "AW:")."""

MAILER_DAEMON_LOCAL = re.compile(r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon)$", re.IGNORECASE)
"""Local parts that only mail systems send from."""

POSTMASTER_LOCAL = re.compile(
    r"^(?:postmaster|post_master|poostmaster|mail\.delivery\.system|mailerdaemon|"
    r"mail-?delivery(?:-?system|-?subsystem)?|bounces?|double-bounce|mdaemon|sysadmin)$",
    re.IGNORECASE,
)
"""Local parts a mail system sends notices from, but which a person could also write from."""

MAIL_SYSTEM_NAME = re.compile(
    r"mail\s*deliver(?:y)?\s*(?:sub)?system|mail\s*delivery\s*service|mailer[-\s]?daemon|"
    r"\bpostmaster\b|mail\s*administrator|system\s*administrator|ndr\s*administrator|"
    r"interscan|delivery\s*status|mail\s*system",
    re.IGNORECASE,
)
"""Display names of mail-system senders ("Mail Delivery Subsystem", "Postmaster")."""

BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:able|ed)|non-?\s?deliver(?:able|y)|delivery\s+status\s+notification"
    r"|delivery\s+status\s*$|delivery\s+notification:\s*delivery\s+has"
    r"|returned\s+mail|mail\s+returned|returning\s+(?:message\s+)?to\s+sender"
    r"|failure\s+notice|(?:mail|message)\s+delivery\s+(?:has\s+)?fail|delivery\s+fail"
    r"|fail(?:ed|ure)\s+delivery|permanent\s+delivery\s+failure|mail\s+failure"
    r"|mail\s+failed|(?:could|can)\s*(?:not|n't)\s+(?:be\s+)?deliver|not\s+delivered"
    r"|mail\s+system\s+error|delayed\s+mail|delivery\s+(?:has\s+been\s+)?delay"
    r"|warning:\s*(?:could\s+not\s+send|message\s+.*\s+delayed)"
    r"|error\s+sending\s+your\s+mail|delivery\s+report|mail\s+delivery\s+status"
    r"|postmaster\s+notify|message\s+you\s+sent\s+blocked"
    r"|unzustellbar|nicht\s+zustellbar|zustellung\s+fehlgeschlagen|übermittlungsstatus"
    r"|non\s+remis|non\s+distribuable|échec\s+de\s+(?:la\s+)?remise|rapport\s+de\s+non-remise"
    r"|no\s+se\s+puede\s+entregar|non\s+recapitabile|onbestelbaar|niet\s+bezorgd"
    r"|não\s+(?:é\s+possível\s+)?entregue?|olevererbart|ej\s+levererat|kan\s+ikke\s+leveres"
    r"|не\s+доставлено|недоставленное|не\s+может\s+быть\s+доставлено"
    r"|配信(?:でき|不能|失敗|エラー)|配送(?:でき|不能|失敗|エラー)|送信(?:でき|エラー|失敗)"
    r"|メールエラー|エラー通知|不達|宛先不明|退信|无法投递|未送达|投递失败",
    re.IGNORECASE,
)
"""Subjects of delivery-failure (and delay) notices, in several languages."""

BOUNCE_NOTICE = re.compile(
    r"this\s+is\s+the\s+mail\s+system\s+at|created\s+automatically\s+by\s+mail\s+delivery"
    r"|qmail-send\s+program|permanent\s+fatal\s+errors|could\s*(?:not|n't)\s+be\s+delivered"
    r"|delivery\s+to\s+the\s+following\s+recipients?\s+(?:failed|has\s+been\s+delayed)"
    r"|(?:was|were)\s*(?:not|n't)\s+(?:be\s+)?delivered|did\s+not\s+reach\s+the\s+following"
    r"|delivery\s+has\s+failed\s+to\s+these\s+recipients|wasn't\s+able\s+to\s+deliver"
    r"|unable\s+to\s+deliver|undeliverable|permanent\s+(?:error|failure)|user\s+unknown"
    r"|unknown\s+user|no\s+such\s+(?:user|recipient|mailbox)|mailbox\s+(?:is\s+)?"
    r"(?:full|unavailable|not\s+found)|original\s+message\s+was\s+received\s+at"
    r"|transcript\s+of\s+session|delivery\s+(?:failed|failure)|recipient\s+address\s+rejected"
    r"|message\s+(?:was\s+)?(?:rejected|blocked|bounced)|returned\s+to\s+sender"
    r"|smtp\s+error|\b5\.\d{1,3}\.\d{1,3}\b|\b550\b|not\s+(?:be\s+)?deliver"
    r"|送信できませんでした|配信できませんでした|届きませんでした|宛先|エラー"
    r"|не\s+(?:может\s+быть\s+)?доставлено",
    re.IGNORECASE,
)
"""Phrases of a mail system's failure notice (combined with other signals, never alone)."""

AUTO_REPLY_SUBJECT_STRONG = re.compile(
    r"^\s*(?:automatic\s+reply|auto(?:matic)?[-\s]?reply|auto(?:matic)?[-\s]?response"
    r"|out\s+of\s+(?:the\s+)?office\s+auto-?reply|autosvar|automatisk\s+svar"
    r"|abwesenheitsnotiz|automatische\s+antwort|r[ée]ponse\s+automatique"
    r"|risposta\s+automatica|respuesta\s+autom[áa]tica|resposta\s+autom[áa]tica"
    r"|automatisch\s+antwoord|automaattinen\s+vastaus|odpowied[źz]\s+automatyczna"
    r"|автоматический\s+ответ|自動応答|自動返信|自动回复)\s*:",
    re.IGNORECASE,
)
"""Subject prefixes that mail programs put on automatic replies ("Automatic reply: ...").

A person does not start their own subject with "Automatic reply:", so these count alone.
"""

AUTO_REPLY_SUBJECT_WEAK = re.compile(
    r"^\s*(?:out\s+of\s+(?:the\s+)?office|ooo\b|away\s+from\s+(?:the|my)\s+office"
    r"|on\s+(?:vacation|holiday|annual\s+leave)|abwesend|abwesenheit|absent\s+du\s+bureau"
    r"|absence\s+du\s+bureau|fuera\s+de\s+la\s+oficina|fuori\s+ufficio|afwezig|frånvaro|不在)",
    re.IGNORECASE,
)
"""Subjects an out-of-office reply has, but that a person could write too.

These count only together with a header that a person's mail never has alone.
"""

OOF_SUPPRESS_VALUES = frozenset({"all", "oof"})
"""X-Auto-Response-Suppress values Exchange puts on its own out-of-office replies."""
