"""Project configuration: `.tokenscan.toml`, or `[tool.tokenscan]` in `pyproject.toml`, at the scanned root
(or a file given with --config). Keys are the long option names; the command line wins over the file,
and list options (rules, exclude) add to what the file says."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from scanner.errors import UsageError

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
    "quiet": "quiet", "no-suppress": "no_suppress", "decode-depth": "decode_depth",
}
PATH_KEYS = {"rules", "baseline", "ignore-file"}


def _read_toml(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read config: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: TOML error: {exc}") from None


def find_config(explicit: str | None, root: str) -> tuple[dict, str | None, list]:
    """(settings, file they came from, extra rules); an explicit --config must exist, an implicit one may
    not. An explicit gitleaks configuration contributes its rules and allowlists instead of settings."""
    if explicit:
        data = _read_toml(explicit)
        from scanner.gitleaks import is_gitleaks_config, load_gitleaks

        if is_gitleaks_config(data):
            return {}, explicit, load_gitleaks(data, explicit)
        return (data.get("tool", {}).get("tokenscan", data) if "tool" in data else data), explicit, []
    base = root if os.path.isdir(root) else (os.path.dirname(root) or ".")
    own = os.path.join(base, ".tokenscan.toml")
    if os.path.isfile(own):
        return _read_toml(own), own, []
    pyproject = os.path.join(base, "pyproject.toml")
    if os.path.isfile(pyproject):
        section = _read_toml(pyproject).get("tool", {}).get("tokenscan")
        if isinstance(section, dict):
            return section, f"{pyproject} [tool.tokenscan]", []
    return {}, None, []


def apply_config(ctx: click.Context, kw: dict[str, Any], settings: dict, source: str | None) -> None:
    """Fill kw from settings where the command line left an option at its default."""
    if not source:
        return
    params = {p.name: p for p in ctx.command.params}
    base = os.path.dirname(source.split(" [", 1)[0]) or "."
    for key, value in settings.items():
        if key not in KEYS:
            raise UsageError(f"{source}: unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
        name = KEYS[key]
        param = params.get(name)
        if param is None:  # an option of another command (e.g. exclude for history)
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
            kw[name] = cast
