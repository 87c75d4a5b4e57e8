"""Project configuration and the typed settings of each scanning command.

`.tokenscan.toml`, or `[tool.tokenscan]` in `pyproject.toml`, at the scanned root (or a file given with
--config). Keys are the long option names; the command line wins over the file, and list options (rules,
exclude) add to what the file says. A file never turns on verification and never loosens the gate
(fail-on, decode-depth): those only tighten.

Nothing here needs click: the command line fills a settings object (and says which options it was given),
a config file is checked against the same value rules here, and tests or other front ends can do the same.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable

from scanner.errors import UsageError
from scanner.pipeline.policy import PolicyFiles
from scanner.report.formats import FORMATS

FAIL_ON = ("any", "live", "none")


@dataclass(init=False, repr=False, eq=False)
class CommonSettings:
    """Options every scanning command shares (rules, output, gate, suppression, verification)."""

    fmt: str = "text"
    output: str | None = None
    rule_files: tuple[str, ...] = ()
    # rule files a config file named (not the command line): their rules never verify (see apply_config)
    config_rule_files: tuple[str, ...] = ()
    show_secrets: bool = False
    hide_invalid_checksum: bool = False
    fail_on: str = "any"
    jobs: int | None = None
    force_jobs: bool = False
    list_skipped: bool = False
    fail_on_incomplete: bool = False
    only_live: bool = False
    allow_unknown: bool = False
    no_color: bool = False
    config_file: str | None = None
    baseline: str | None = None
    ignore_file: str | None = None
    no_suppress: bool = False
    archive_depth: int = 2
    decode_depth: int = 2
    verify: bool = False
    cloudflare_api_base: str | None = None
    cloudflare_email: str | None = None
    cloudflare_account_id: str | None = None
    verify_timeout: float = 10.0
    verify_concurrency: int = 4
    verify_budget: float = 120.0
    quiet: bool = False
    force_verify: bool = False  # `tokenscan verify`: verification is the command's point
    # options the command line was given: a config file's value never replaces them
    given: frozenset[str] = field(default_factory=frozenset)

    # __init__ and __repr__ are written once here, not generated for each settings class: dataclasses would
    # compile a ~35-argument __init__ for each of the seven, ~6 ms of every start (a pre-commit hook's too)
    def __init__(self, **values: Any) -> None:
        for f in fields(self):
            if f.name in values:
                setattr(self, f.name, values.pop(f.name))
            elif f.default_factory is not MISSING:
                setattr(self, f.name, f.default_factory())
            else:
                setattr(self, f.name, f.default)
        if values:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(values))}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in fields(self))})"

    @classmethod
    def of(cls, values: dict[str, Any], given: Any = ()) -> Any:
        """Settings from option values by name (a command's parameters); names it does not have are left out."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names}, given=frozenset(given))

    def has(self, name: str) -> bool:
        """Whether this command takes the option (a config key for another command is passed over)."""
        return name != "given" and name in {f.name for f in fields(self)}


@dataclass(init=False, repr=False, eq=False)
class ScanSettings(CommonSettings):
    """`scan`: files on disk."""

    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    no_gitignore: bool = False
    include_binary: bool = False
    max_file_size: int = 10 << 20


@dataclass(init=False, repr=False, eq=False)
class HistorySettings(CommonSettings):
    """`history`: a repository's commits."""

    repo: str = "."
    branch: str | None = None
    since: str | None = None
    max_commits: int | None = None
    include_binary: bool = False


@dataclass(init=False, repr=False, eq=False)
class CiSettings(CommonSettings):
    """`ci`: the commits a change adds."""

    repo: str = "."
    base: str | None = None
    head: str | None = None
    remote: str = "origin"
    fetch: bool = True
    reports: tuple[str, ...] = ()  # FORMAT:FILE, written beside the main report from the same scan
    github_output: bool | None = None  # annotations and job summary; None: when running in GitHub Actions
    include_binary: bool = False


@dataclass(init=False, repr=False, eq=False)
class StagedSettings(CommonSettings):
    """`staged`: what `git commit` would add."""

    repo: str = "."


@dataclass(init=False, repr=False, eq=False)
class VerifySettings(CommonSettings):
    """`verify`: credentials given directly."""

    tokens: tuple[str, ...] = ()


@dataclass(init=False, repr=False, eq=False)
class BaselineSettings(CommonSettings):
    """`baseline create`: what is there today."""

    target: str = "."
    use_history: bool = False
    exclude: tuple[str, ...] = ()


def parse_size(value: str) -> int:
    """`10M`, `512K`, `1048576`: bytes. ValueError with the message a user sees."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    v = value.strip().lower().rstrip("ib").rstrip("b") if value[-1:].lower() in "bB" else value.strip().lower()
    mult = units.get(v[-1:], 1)
    number = v[:-1] if v[-1:] in units else v
    try:
        n = int(float(number) * mult)
    except ValueError:
        raise ValueError(f"'{value}' is not a size (e.g. 10M, 512K, 1048576)") from None
    if n <= 0:
        raise ValueError("must be positive")
    return n


# Value rules for config keys, the same as the command line's (messages worded as the command line's).
def _choice(*allowed: str) -> Callable[[Any], str]:
    def convert(v: Any) -> str:
        if str(v) not in allowed:
            raise ValueError(f"{v!r} is not one of {', '.join(repr(a) for a in allowed)}.")
        return str(v)
    return convert


def _number(kind: type, lo: float | None = None, hi: float | None = None) -> Callable[[Any], Any]:
    name = "integer" if kind is int else "float"

    def convert(v: Any) -> Any:
        if isinstance(v, bool) or (kind is int and isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"{v!r} is not a valid {name}.")
        try:
            n = kind(v)
        except (TypeError, ValueError):
            raise ValueError(f"{v!r} is not a valid {name}.") from None
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            bounds = f"{lo}<=x<={hi}" if lo is not None and hi is not None else f"x>={lo}" if lo is not None else f"x<={hi}"
            raise ValueError(f"{n} is not in the range {bounds}.")
        return n
    return convert


_TRUE, _FALSE = {"1", "true", "t", "yes", "y", "on"}, {"0", "false", "f", "no", "n", "off", ""}


def _flag(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"{v!r} is not a valid boolean. Recognized values: {', '.join(sorted(_TRUE | _FALSE))}")


def _text(v: Any) -> str:
    if isinstance(v, (list, dict)):
        raise ValueError(f"{v!r} is not a single value.")
    return str(v)


def _texts(v: Any) -> tuple[str, ...]:
    return tuple(_text(x) for x in v) if isinstance(v, list) else (_text(v),)


def _size(v: Any) -> int:
    return parse_size(_text(v))


# config key -> (settings attribute, value rule)
KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "format": ("fmt", _choice(*FORMATS)), "fail-on": ("fail_on", _choice(*FAIL_ON)),
    "rules": ("rule_files", _texts), "exclude": ("exclude", _texts),
    "hide-invalid-checksum": ("hide_invalid_checksum", _flag), "max-file-size": ("max_file_size", _size),
    "jobs": ("jobs", _number(int, 1)), "verify": ("verify", _flag), "baseline": ("baseline", _text),
    "ignore-file": ("ignore_file", _text), "no-gitignore": ("no_gitignore", _flag),
    "include-binary": ("include_binary", _flag), "cloudflare-email": ("cloudflare_email", _text),
    "cloudflare-account-id": ("cloudflare_account_id", _text),
    "verify-timeout": ("verify_timeout", _number(float, 0.1)),
    "verify-concurrency": ("verify_concurrency", _number(int, 1, 32)),
    "verify-budget": ("verify_budget", _number(float, 1)), "no-color": ("no_color", _flag),
    "quiet": ("quiet", _flag), "no-suppress": ("no_suppress", _flag), "decode-depth": ("decode_depth", _number(int, 0, 4)),
    "archive-depth": ("archive_depth", _number(int, 0, 5)), "fail-on-incomplete": ("fail_on_incomplete", _flag),
    "allow-unknown": ("allow_unknown", _flag), "list-skipped": ("list_skipped", _flag),
}
MULTIPLE = {"rules", "exclude"}  # list options: the file's entries, then the command line's
PATH_KEYS = {"rules", "baseline", "ignore-file"}
NETWORK_KEYS = {"verify"}


def _parse_toml(data: bytes, where: str) -> dict:
    if sys.version_info >= (3, 11):  # imported here: most runs read no config at all
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: TOML error: {exc}") from None


def find_config(explicit: str | None, root: str, policy: PolicyFiles | None = None) -> tuple[dict, str | None, list]:
    """(settings, file they came from, extra rules); an explicit --config must exist, an implicit one may
    not. An explicit gitleaks configuration contributes its rules and allowlists instead of settings.
    Files inside the repository are read through `policy` (at the base revision of a review)."""
    policy = policy or PolicyFiles(root)
    if explicit:
        try:
            raw = policy.read(explicit)
        except OSError as exc:
            raise UsageError(f"{explicit}: cannot read config: {exc.strerror}") from None
        if raw is None:
            raise UsageError(f"{policy.describe(explicit)}: cannot read config: no such file")
        data = _parse_toml(raw, policy.describe(explicit))
        from scanner.rules.gitleaks import is_gitleaks_config, load_gitleaks

        if is_gitleaks_config(data):
            return {}, explicit, load_gitleaks(data, explicit)
        return (data.get("tool", {}).get("tokenscan", data) if "tool" in data else data), explicit, []
    base = root if os.path.isdir(root) else (os.path.dirname(root) or ".")
    for name in (".tokenscan.toml", "pyproject.toml"):
        path = os.path.join(base, name)
        try:
            raw = policy.read(path)
        except OSError:
            raw = None
        if raw is None:
            continue
        if name == "pyproject.toml" and not any(spelt in raw for spelt in (b"tokenscan", b"\\u", b"\\U")):
            continue  # a [tool.tokenscan] table spells its name, unless through an escape in a quoted key
        data = _parse_toml(raw, policy.describe(path))
        if name == ".tokenscan.toml":
            return data, path, []
        section = data.get("tool", {}).get("tokenscan")
        if isinstance(section, dict):
            return section, f"{path} [tool.tokenscan]", []
    return {}, None, []


# The gate's strictness, loosest first: a config file may move fail-on right, never left.
_FAIL_ON_ORDER = ("none", "live", "any")


def _loosens(key: str, value: Any, current: Any) -> bool:
    """Whether a file's value would weaken the gate compared with what the command line gives."""
    if key == "fail-on":
        return value in _FAIL_ON_ORDER and _FAIL_ON_ORDER.index(value) < _FAIL_ON_ORDER.index(current)
    if key in ("decode-depth", "archive-depth"):
        return isinstance(value, int) and value < current
    if key == "allow-unknown":
        return bool(value) and not current
    return False


def apply_config(settings: CommonSettings, file_settings: dict, source: str | None) -> list[str]:
    """Fill settings from a config file where the command line did not give the option; returns notes on
    what was not applied. The scanned content never steers the scanner: a file cannot turn on network use
    (`verify`: command line or TOKENSCAN_VERIFY only) and cannot loosen the gate, only tighten it."""
    notes: list[str] = []
    if not source:
        return notes
    base = os.path.dirname(source.split(" [", 1)[0]) or "."
    for key, value in file_settings.items():
        if key not in KEYS:
            raise UsageError(f"{source}: unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
        name, convert = KEYS[key]
        if not settings.has(name):  # an option of another command (e.g. exclude for history)
            continue
        if key in NETWORK_KEYS:
            if value:
                notes.append(f"{source}: '{key}' ignored: network use is turned on only by the command line "
                             f"(--verify) or TOKENSCAN_VERIFY=1, never by a file in the scanned content")
            continue
        if key in PATH_KEYS:
            value = [os.path.join(base, v) for v in value] if isinstance(value, list) else os.path.join(base, str(value))
        try:
            cast = convert(value)
        except ValueError as exc:
            raise UsageError(f"{source}: key '{key}': {exc}") from None
        if key in MULTIPLE:
            given = tuple(getattr(settings, name) or ())
            setattr(settings, name, tuple(dict.fromkeys(tuple(cast) + given)))  # a file named twice: once
            if key == "rules":  # a file could name a rule that sends one vendor's secret to another's API
                added = tuple(f for f in cast if f not in given)
                settings.config_rule_files += added
                if added and settings.has("verify") and getattr(settings, "verify", False):
                    notes.append(f"{source}: rules from {', '.join(added)} are not verified: a rule file named by "
                                 f"a config file cannot send anything anywhere (give it with --rules to verify)")
        elif name not in settings.given:
            if _loosens(key, cast, getattr(settings, name)):
                notes.append(f"{source}: '{key} = {value!r}' ignored: a config file may tighten the gate, "
                             f"never loosen it (give --{key} on the command line)")
                continue
            setattr(settings, name, cast)
    return notes
