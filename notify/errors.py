"""Errors raised by notify.

NotifyError                base of everything notify raises
├── TemplateProblem        permanent: a template is missing, has a typo, or the row's context
│                          lacks a key the template needs; fix the template (or the override
│                          in `templates_dir`) and run `postdesk outbox retry`
└── ScheduleProblem        permanent: a cron expression or business-hours spec is unusable;
                           fix the configuration key named in the message
Transport failures are not exceptions: a transport returns a `Delivery` whose outcome is
"sent", "transient" (retry with backoff) or "permanent" (the row is dead).
"""


class NotifyError(Exception):
    """Base of notify's errors."""


class TemplateProblem(NotifyError):
    """A mail could not be rendered; the message names the template and the problem."""


class ScheduleProblem(NotifyError):
    """A schedule or calendar setting cannot be used; the message names the value."""
