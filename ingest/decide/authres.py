"""Authentication-Results (RFC 8601) from trusted hosts: did DMARC/DKIM/SPF pass for From?

Only headers whose authserv-id is in the trusted list count; anyone can write the header
otherwise. The verdict is for the From domain: `fail` downgrades a mail, `pass` of DMARC (or
DKIM aligned with the From domain) verifies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*([a-z]+)\b([^;]*)", re.IGNORECASE)
_PROP = re.compile(r"\b(header\.from|header\.d|header\.i|smtp\.mailfrom)\s*=\s*([^\s;]+)", re.I)


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """What trusted hosts said about the From domain."""

    passed: bool  # DMARC pass, or DKIM pass aligned with the From domain
    failed: bool  # DMARC, DKIM or SPF fail for the From domain
    detail: str


NO_VERDICT = AuthVerdict(passed=False, failed=False, detail="no trusted Authentication-Results")


def _aligned(value: str, domain: str) -> bool:
    value = value.lower().rpartition("@")[2].strip("<>\"'")
    return value == domain or domain.endswith("." + value) or value.endswith("." + domain)


def verdict(headers: Iterable[str], trusted_ids: Iterable[str], from_domain: str) -> AuthVerdict:
    """Combine the trusted Authentication-Results headers into one verdict."""
    trusted = {t.lower() for t in trusted_ids}
    if not trusted or not from_domain:
        return NO_VERDICT
    passed = failed = False
    details: list[str] = []
    for header in headers:
        authserv, _, rest = " ".join(header.split()).partition(";")
        if authserv.split(" ")[0].strip().lower() not in trusted:
            continue
        for raw_method, raw_result, props in _RESULT.findall(rest):
            method, result = raw_method.lower(), raw_result.lower()
            domains = [v for _, v in _PROP.findall(props)]
            aligned = not domains or any(_aligned(d, from_domain) for d in domains)
            if not aligned:
                continue
            details.append(f"{method}={result}")
            if result == "fail":
                failed = True
            elif result == "pass" and method in ("dmarc", "dkim"):
                passed = True
    if not details:
        return NO_VERDICT
    return AuthVerdict(passed=passed and not failed, failed=failed, detail=", ".join(details))
