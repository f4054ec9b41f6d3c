"""Templates -> subject, text and HTML for one outbox row (jinja2, StrictUndefined).

Templates live in `templates/<kind>.subject.j2`, `<kind>.txt.j2` and `<kind>.html.j2`
(English), and in `templates/<language>/` with the same names for each other language.
A configured templates directory is searched first, so it overrides any built-in file
(layouts and includes too, `<language>/` ones likewise). HTML templates are autoescaped;
text and subject are not. The text part is wrapped (`notify.wrap`).

Languages: mail to customers (`CUSTOMER_KINDS`) is written in the row's `language`, else
its ticket's, else the desk's default; every other kind (mail to staff and ops) in the
staff language. A kind without a `<kind>.txt.j2` in that language is written in English,
all three parts, so a mail is never half one language; a layout or include missing in a
language is taken from English.
A missing key or a typo fails loudly as `TemplateProblem`: the row goes dead with the
reason, never out half-rendered. Templates are compiled once per `Renderer` and not checked
for changes afterwards (jinja2 `auto_reload` off): edited templates take effect when the
worker starts again.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from notify import locale
from notify.errors import TemplateProblem
from notify.wrap import wrap_text
from store.languages import DEFAULT_LANGUAGE

KINDS: tuple[str, ...] = (
    "confirmation",
    "comment_notice",
    "new_ticket_notice",
    "staff_reply",
    "redaction_notice",
    "mute_notice",
    "escalation_requested",
    "unverified_staff",
    "flood_held",
    "unknown_sender",
    "not_found",
    "sla_reminder",
    "escalation_notice",
    "escalation_customer",
    "waiting_reminder",
    "auto_close_notice",
    "digest",
    "daily_digest",
    "staff_reply_copy",
    "assignment_notice",
    "command_problems",
    "unverified_staff_reply",
)
CUSTOMER_KINDS: frozenset[str] = frozenset(
    {
        "confirmation",
        "staff_reply",
        "redaction_notice",
        "mute_notice",
        "unknown_sender",
        "escalation_customer",
        "waiting_reminder",
        "auto_close_notice",
    }
)
"""Mail to customers, written in their language; any other kind goes to staff or ops."""
PARTS = ("subject", "txt", "html")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
REPO_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def builtin_templates_dir() -> Path:
    """The built-in templates: `postdesk/templates` in a wheel, else the checkout's `templates/`."""
    spec = importlib.util.find_spec("postdesk")  # locates the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        packaged = Path(location) / "templates"
        if packaged.is_dir():
            return packaged
    if REPO_TEMPLATES.is_dir():
        return REPO_TEMPLATES
    raise TemplateProblem(
        f"built-in mail templates not found (looked in the postdesk package and {REPO_TEMPLATES}); "
        "reinstall postdesk or set templates_dir in the configuration"
    )


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The three rendered parts of one mail."""

    subject: str
    text: str
    html: str
    language: str = DEFAULT_LANGUAGE  # what it is written in (its Content-Language)


def _when(value: Any, fmt: str | None = None, language: str = DEFAULT_LANGUAGE) -> str:
    """Format an ISO-8601 string or datetime for people: `Tue 04 Jun 2024 14:05 UTC`
    (in `language`; with `fmt`, a strftime format instead)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return _when_text(value, fmt, language)
    return _when_moment(value, fmt, language)


@lru_cache(maxsize=4096)
def _when_text(value: str, fmt: str | None, language: str) -> str:
    """`_when` of an ISO-8601 string: cached, as a mail shows the same few instants in each of
    its parts and a ticket's mails show them again (parsing and strftime were a tenth of
    rendering). Strings are immutable, so a cached answer is never stale."""
    return _when_moment(datetime.fromisoformat(value.replace("Z", "+00:00")), fmt, language)


def _when_moment(moment: object, fmt: str | None, language: str) -> str:
    if not isinstance(moment, datetime):
        return str(moment)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime(fmt) if fmt else locale.date_time(moment, language)


def _label(value: Any) -> str:
    """`waiting_on_customer` -> `Waiting on customer`."""
    return locale.english_label(value)


# Names a template can reach on a dict as attributes (`.items`, `.get`): for any other name,
# `getattr` on a dict fails and jinja2 then looks the key up.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """A jinja2 environment tuned for rendering many small mails with the same templates.

    Its globals (`desk_name` and jinja2's own) must be set before the first template is
    loaded, as jinja2 itself asks: each template keeps a copy of them.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one flat dict, not jinja2's ChainMap over the
        environment's: every render and include iterates them (to copy them into the new
        context), and iterating a ChainMap cost a tenth of rendering."""
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`ticket.number`: for a dict, the key at once.

        jinja2 tries the attribute first and the key after its AttributeError: for the JSON
        contexts of outbox rows (dicts all the way down) every `a.b` raised and caught an
        exception. For a plain dict and a name that is not a dict attribute that attempt
        always fails, so going straight to the key gives the same value (or undefined).
        """
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Renderer:
    """Renders outbox rows with built-in templates, overridable from a directory."""

    def __init__(
        self,
        *,
        desk_name: str,
        templates_dir: Path | None = None,
        language: str = DEFAULT_LANGUAGE,
        staff_language: str = DEFAULT_LANGUAGE,
    ) -> None:
        """`language`: of customer mail whose row and ticket name none; `staff_language`: of
        every other mail."""
        directories: list[Path] = []
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise TemplateProblem(
                    f"templates_dir {templates_dir} is not a directory; create it or remove the key"
                )
            directories.append(templates_dir)
        directories.append(builtin_templates_dir())
        self.directories = tuple(directories)
        self.desk_name = desk_name
        self.language = language
        self.staff_language = staff_language
        self._environments: dict[str, _Environment] = {}
        self._has_kind: dict[tuple[str, str], bool] = {}
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}  # (language, file name)
        self.environment = self._environment(DEFAULT_LANGUAGE)

    def _environment(self, language: str) -> _Environment:
        """The jinja2 environment of one language: its own directories first, then English."""
        found = self._environments.get(language)
        if found is not None:
            return found
        folders = [d / language for d in self.directories] if language != DEFAULT_LANGUAGE else []
        loaders: list[jinja2.BaseLoader] = [
            jinja2.FileSystemLoader(str(folder)) for folder in [*folders, *self.directories]
        ]
        environment = _Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            # Includes and layouts are looked up at every render: a plain dict (no size
            # limit: the templates are a fixed set) instead of the locked LRU cache.
            cache_size=-1,
        )
        environment.filters["when"] = lambda value, fmt=None: _when(value, fmt, language)
        environment.filters["label"] = lambda value: locale.label(value, language)
        environment.filters["counted"] = lambda kind, count: locale.counted(kind, count, language)
        environment.filters["duration"] = lambda value: locale.duration(value, language)
        environment.filters["reason"] = lambda value: locale.reason(value, language)
        environment.globals["desk_name"] = self.desk_name
        environment.globals["language"] = language
        self._environments[language] = environment
        return environment

    def language_for(self, kind: str, context: Mapping[str, Any]) -> str:
        """The language `kind` is written in for `context` (see the module's description)."""
        if kind in CUSTOMER_KINDS:
            ticket = context.get("ticket")
            language = (
                context.get("language")
                or (ticket.get("language") if isinstance(ticket, Mapping) else None)
                or self.language
            )
        else:
            language = self.staff_language
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            return DEFAULT_LANGUAGE
        if language == DEFAULT_LANGUAGE or self._written_in(language, kind):
            return language
        return DEFAULT_LANGUAGE

    def _written_in(self, language: str, kind: str) -> bool:
        """Whether `kind` has a text template in `language` (checked once)."""
        known = self._has_kind.get((language, kind))
        if known is None:
            name = f"{kind}.txt.j2"
            known = any((d / language / name).is_file() for d in self.directories)
            self._has_kind[(language, kind)] = known
        return known

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedMail:
        """Render the three parts of `kind` with `context`; `TemplateProblem` on any error."""
        values = dict(context)
        values.setdefault("kind", kind)
        language = self.language_for(kind, context)
        values["language"] = language
        subject, text, html = (self._render_part(kind, part, values, language) for part in PARTS)
        return RenderedMail(
            subject=" ".join(subject.split()), text=wrap_text(text), html=html, language=language
        )

    def _render_part(self, kind: str, part: str, values: dict[str, Any], language: str) -> str:
        name = f"{kind}.{part}.j2"
        try:
            template = self._compiled.get((language, name))
            if template is None:
                template = self._environment(language).get_template(name)
                self._compiled[(language, name)] = template
            return template.render(values)
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(f"template {exc.name} not found for mail kind {kind!r}") from exc
        except jinja2.UndefinedError as exc:
            raise TemplateProblem(f"template {name}: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateProblem(f"template {name}: {type(exc).__name__}: {exc}") from exc
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise TemplateProblem(f"template {name}: bad context value ({exc})") from exc
