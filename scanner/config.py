"""Project configuration: `.tokenscan.toml`, or `[tool.tokenscan]` in `pyproject.toml`, at the scanned root
(or a file given with --config). Keys are the long option names; the command line wins over the file,
and list options (rules, exclude) add to what the file says. A file never turns on verification and never
loosens the gate (fail-on, decode-depth): those only tighten."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from scanner.errors import UsageError
from scanner.policy import PolicyFiles

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# config key -> CLI parameter name
KEYS = {
    "format": "fmt", "fail-on": "fail_on", "rules": "rule_files", "exclude": "exclude",
    "include-invalid-checksum": "include_invalid_checksum", "max-file-size": "max_file_size", "jobs": "jobs",
    "verify": "verify", "baseline": "baseline", "ignore-file": "ignore_file", "no-gitignore": "no_gitignore",
    "include-binary": "include_binary", "cloudflare-email": "cloudflare_email",
    "cloudflare-account-id": "cloudflare_account_id", "verify-timeout": "verify_timeout",
    "verify-concurrency": "verify_concurrency", "verify-budget": "verify_budget", "no-color": "no_color",
    "quiet": "quiet", "no-suppress": "no_suppress", "decode-depth": "decode_depth", "archive-depth": "archive_depth",
    "fail-on-incomplete": "fail_on_incomplete", "allow-unknown": "allow_unknown", "list-skipped": "list_skipped",
}
PATH_KEYS = {"rules", "baseline", "ignore-file"}
NETWORK_KEYS = {"verify"}


def _parse_toml(data: bytes, where: str) -> dict:
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
        from scanner.gitleaks import is_gitleaks_config, load_gitleaks

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


def apply_config(ctx: click.Context, kw: dict[str, Any], settings: dict, source: str | None) -> list[str]:
    """Fill kw from settings where the command line left an option at its default; returns notes on what
    was not applied. The scanned content never steers the scanner: a file cannot turn on network use
    (`verify`: command line or TOKENSCAN_VERIFY only) and cannot loosen the gate, only tighten it."""
    notes: list[str] = []
    if not source:
        return notes
    params = {p.name: p for p in ctx.command.params}
    base = os.path.dirname(source.split(" [", 1)[0]) or "."
    for key, value in settings.items():
        if key not in KEYS:
            raise UsageError(f"{source}: unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
        name = KEYS[key]
        param = params.get(name)
        if param is None:  # an option of another command (e.g. exclude for history)
            continue
        if key in NETWORK_KEYS:
            if value:
                notes.append(f"{source}: '{key}' ignored: network use is turned on only by the command line "
                             f"(--verify) or TOKENSCAN_VERIFY=1, never by a file in the scanned content")
            continue
        if key in PATH_KEYS:
            value = [os.path.join(base, v) for v in value] if isinstance(value, list) else os.path.join(base, str(value))
        try:
            cast = param.type_cast_value(ctx, value)
            if param.callback is not None and not getattr(param, "multiple", False):
                cast = param.callback(ctx, param, value)
        except click.BadParameter as exc:
            raise UsageError(f"{source}: key '{key}': {exc.message}") from None
        if getattr(param, "multiple", False):
            kw[name] = tuple(cast) + tuple(kw.get(name) or ())
        elif ctx.get_parameter_source(name) in (click.core.ParameterSource.DEFAULT, None):
            if _loosens(key, cast, kw.get(name)):
                notes.append(f"{source}: '{key} = {value!r}' ignored: a config file may tighten the gate, "
                             f"never loosen it (give --{key} on the command line)")
                continue
            kw[name] = cast
    return notes
