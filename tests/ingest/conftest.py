"""Fixtures for the ingest tests: the throwaway Dovecot server from tests/dovecot.py."""

from tests.dovecot import dovecot

__all__ = ["dovecot"]
