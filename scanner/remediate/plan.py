"""`tokenscan remediate REPO -o FILE`: scan REPO's whole history, write the replacements file that
`git filter-repo --replace-text` (and `--replace-message`) needs, and print the steps in their safe order.

Why the command scans by itself instead of reading a `--show-secrets` JSON report: a report holding secrets
would be a second file of secrets on disk, made by hand and easy to forget. Here the replacements file is the
only one; it is created mode 0600 from its first byte, must lie outside the repository (so it can never be
committed), and the printed steps end by deleting it. Nothing printed ever holds a secret: credentials are
shown redacted, as in every report.

Why rotation comes first, in the printout and in the file's comments: rewriting history does not un-leak a
credential anyone may already have copied; it only stops the repository from leaking it again. And the command
never rewrites or pushes anything itself: that is a destructive act on a shared remote, for a person to do.

The file's format is git-filter-repo's (see its manual, `--replace-text`): one expression per line, a literal
by default, `regex:` for a Python regular expression, `==>REPLACEMENT` at the end to choose the replacement.
filter-repo splits each line at its *last* `==>`, so a secret holding `==>` is safe as long as every line ends
with an explicit replacement (every line here does). A line cannot hold a newline, so a multi-line secret
(a PEM private key) is written as a `regex:` line matching its lines joined by LF or CRLF.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scanner.errors import UsageError

_FILTER_REPO_PREFIXES = ("regex:", "glob:", "literal:")
SHORT = 12  # a value this short may well occur elsewhere in history: the person should look at the file first
_ARCHIVE_MEMBER = re.compile(r"\.(?:zip|jar|war|ear|whl|apk|aar|docx|xlsx|pptx|tar|tgz|gz|bz2|xz)!", re.IGNORECASE)


@dataclass
class Leak:
    """One distinct secret and every place history holds it."""

    secret: str
    rule_id: str
    prefix: str = ""
    at_head: bool = False
    places: list[tuple[str, int, str | None]] = field(default_factory=list)  # path, line, commit
    encodings: set[str] = field(default_factory=set)

    @property
    def replacement(self) -> str:
        """What filter-repo writes in its place: names the rule, so a reader of the rewritten history knows
        what was there; no backslash (a regex replacement would read it as a group reference), no `==>`."""
        return f"***REMOVED-{self.rule_id}***"

    @property
    def literal_only(self) -> bool:
        """False when the secret was found only behind an encoding (base64, URL, JSON escapes, UTF-16): its
        decoded text is not in the blob, so no replacement line can remove it."""
        return "plain" in self.encodings


def leaks_from(findings: list[Any]) -> tuple[list[Leak], int]:
    """Distinct secrets (the first finding's rule names each), and how many findings were left out because
    they never fail a gate (a checksum that fails, an obviously synthetic test token)."""
    by_secret: dict[str, Leak] = {}
    skipped = 0
    for f in findings:
        if not f.gating:
            skipped += 1
            continue
        if not f.secret:
            continue
        leak = by_secret.setdefault(f.secret, Leak(f.secret, f.rule_id, f.prefix))
        leak.at_head = leak.at_head or bool(f.at_head)
        leak.places.append((f.path, f.line, f.commit))
        leak.encodings.add(f.encoding)
    return list(by_secret.values()), skipped


# The rest of an armoured key whose finding holds only its first lines (the private-key rule reports a long
# key as its BEGIN line and the lines after it): lazily up to the first END line, never into another block.
_TO_END = r"(?:(?!-----BEGIN )[\s\S]){0,20000}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"


def _multiline_regex(secret: str) -> str:
    """A regex matching the secret's lines joined by LF or CRLF (a file checked in with either); for a key
    block cut short by the rule, the rest of the block up to its END line too: half a private key left in
    history is still a leak."""
    lines = re.split(r"\r?\n|\r", secret)
    pattern = r"\r?\n".join(re.escape(line) for line in lines)
    if secret.startswith("-----BEGIN ") and "-----END " not in secret:
        pattern += _TO_END
    return pattern


def _multiline(secret: str) -> bool:
    return "\n" in secret or "\r" in secret


def replacement_lines(leaks: list[Leak]) -> list[str]:
    """git-filter-repo expression lines, one per distinct secret. filter-repo applies every literal line, in file
    order, before any regex line; so literals go longest first (a secret that contains another must be replaced
    before the shorter one breaks it), and a multi-line secret's regex is built from its text as it will be
    after the literals ran (a token pasted inside a key block is already a placeholder by then)."""
    ordered = sorted(leaks, key=lambda x: (-len(x.secret), x.secret))
    literals = [x for x in ordered if not _multiline(x.secret)]
    lines: list[str] = []
    for leak in literals:
        literal = f"literal:{leak.secret}" if leak.secret.startswith(_FILTER_REPO_PREFIXES) else leak.secret
        lines.append(f"{literal}==>{leak.replacement}")
    for leak in ordered:
        if _multiline(leak.secret):
            text = leak.secret
            for lit in literals:
                text = text.replace(lit.secret, lit.replacement)
            lines.append(f"regex:{_multiline_regex(text)}==>{leak.replacement}")
    return lines


def write_secret_file(path: str, text: str, force: bool) -> None:
    """Owner-only from the first byte (O_EXCL: never an existing file's wider mode), refused if it exists
    unless --force, which removes it first."""
    if force and os.path.lexists(path):
        os.unlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise UsageError(f"--output {path}: exists (it may hold secrets from an earlier run: delete it with "
                         f"`shred -u`, or give --force)") from None
    except OSError as exc:
        raise UsageError(f"--output {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def public_url(url: str) -> str:
    """A remote URL without its user-info part: `https://user:token@host/...` is itself a leak to print."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def remote_url(repo: Any) -> str | None:
    """origin's URL (the one to mirror-clone and push back to), or the only remote's; None without one."""
    try:  # a scanned repository's remotes are read as text from its config, never through libgit2's
        remotes = dict(repo.remote_urls) if hasattr(repo, "remote_urls") else {r.name: r.url for r in repo.remotes}
    except Exception:  # noqa: BLE001 -- pygit2 raises various errors on a malformed remote: the steps say <URL>
        return None
    if "origin" in remotes:
        return remotes["origin"]
    return next(iter(remotes.values())) if len(remotes) == 1 else None


def _inside(path: str, folder: str | None) -> bool:
    if not folder:
        return False
    folder = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), folder]) == folder


def check_output(output: str, workdir: str | None, git_dir: str, force: bool = False) -> None:
    """Checked before the scan, so a wrong --output costs nothing. The file of secrets must not be inside the
    repository (`git add -A` would commit it, and the scanner never writes into what it scans), and an earlier
    run's file is not silently replaced."""
    folder = os.path.dirname(os.path.abspath(output))
    if os.path.isdir(output):
        raise UsageError(f"--output {output}: is a directory")
    if os.path.lexists(output) and not force:
        raise UsageError(f"--output {output}: exists (it may hold secrets from an earlier run: delete it with "
                         f"`shred -u`, or give --force)")
    if not os.path.isdir(folder):
        raise UsageError(f"--output {output}: folder {folder} does not exist")
    if _inside(output, workdir) or _inside(output, git_dir):
        raise UsageError(f"--output {output}: inside the repository being remediated; write it outside "
                         f"(it holds every secret in clear and must never be committed)")


def plan_text(leaks: list[Leak], output: str, repo_label: str, url: str | None, skipped: int,
              suppressed: dict[str, int], incomplete: int = 0) -> str:
    """The ordered steps, for a person: rotate, rewrite, push, re-clone, purge caches, delete the file.
    Holds no secret: each credential appears redacted, by rule and place."""
    from scanner.findings import redact
    from scanner.findings.advice import advice

    file_arg = shlex.quote(os.path.abspath(output))
    places = sum(len(x.places) for x in leaks)
    out = [(f"tokenscan remediate: {len(leaks)} distinct credential{'s' if len(leaks) != 1 else ''} in the history "
           f"of {repo_label} ({places} place{'s' if places != 1 else ''}); replacements written to {output} "
           f"(mode 0600)"), ""]
    out.append("1) ROTATE FIRST. Anyone with a clone, a fork or a cached page may already have these; rewriting "
               "history does not un-leak them. Revoke or rotate each one now:")
    for n, leak in enumerate(leaks, 1):
        path, line, commit = leak.places[0]
        state = "STILL AT HEAD" if leak.at_head else "history only"
        out.append(f"   [{n}] {leak.rule_id}  {redact(leak.secret, leak.prefix)}  ({state})")
        where = f"{path}:{line}" + (f" in commit {commit[:12]}" if commit else "")
        more = len(leak.places) - 1
        out.append(f"       first seen: {where}" + (f" (and {more} more place{'s' if more != 1 else ''})" if more else ""))
        a = advice(leak.rule_id)
        out.append(f"       do: {a.what if a else 'revoke or rotate it where it was issued'}")
        if a and a.url:
            out.append(f"       see: {a.url}")
        for extra in a.also if a else ():
            out.append(f"       also: {extra}")
        if a and not a.url:
            out.append("       (no vendor page known to tokenscan: follow the vendor's own documentation)")
        if len(leak.secret) < SHORT:
            out.append(f"       short value ({len(leak.secret)} characters): filter-repo replaces it wherever it "
                       f"occurs, in every file; review {output} before using it")
        archives = sorted({p for p, _, _ in leak.places if _ARCHIVE_MEMBER.search(p)})
        if archives:
            out.append(f"       inside an archive ({archives[0]}{' …' if len(archives) > 1 else ''}): replace-text "
                       f"cannot edit archives; remove the archive from history (git filter-repo --invert-paths "
                       f"--path PATH) or accept that it stays")
        if not leak.literal_only:
            out.append(f"       found only {'/'.join(sorted(leak.encodings))}-encoded: the replacements file cannot "
                       f"remove the encoded text; edit those files by hand (rotation is what protects you)")
    if any(x.at_head for x in leaks):
        out.append("   Credentials STILL AT HEAD: move them out of the code (environment, secret store) and commit "
                   "that first; after the rewrite those files hold the placeholder instead.")
    if skipped:
        out.append(f"   ({skipped} finding{'s' if skipped != 1 else ''} with a failing checksum or an obviously "
                   f"synthetic value left out)")
    if suppressed:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(suppressed.items()))
        out.append(f"   (suppressed, not in the file: {counts}; --no-suppress includes them)")
    if incomplete:
        out.append(f"   WARNING: {incomplete} part{'s' if incomplete != 1 else ''} of the history could not be scanned "
                   f"(shallow clone, missing or corrupt objects: see `tokenscan history`); secrets there are not in "
                   f"the file")
    clone_url = shlex.quote(public_url(url)) if url else "<URL>"
    out += ["",
            ("2) REWRITE HISTORY, after every credential above is rotated, in a fresh mirror clone (never in your "
            "working copy):"),
            f"       git clone --mirror {clone_url} repo.git",
            "       cd repo.git",
            f"       git filter-repo --replace-text {file_arg} --replace-message {file_arg}",
            ("   (--replace-text rewrites file contents, --replace-message commit and tag messages; filter-repo "
            "skips binary files.)"),
            ("   Check: `git log -p --all | grep -c REMOVED-` counts the placeholders; `tokenscan history .` should "
            "find nothing."),
            "",
            "3) PUBLISH the rewritten history (lift branch protection against force pushes for this push):",
            f"       git remote add origin {clone_url}   # filter-repo removes the origin remote after a rewrite",
            "       git push --force --mirror origin",
            "   On GitHub, rejections of refs/pull/* are expected: those refs are read-only.",
            "",
            ("4) TELL COLLABORATORS to delete their clones and clone again: a `git pull` then `git push` from an old "
            "clone brings every secret back. Forks keep the old history until their owners act."),
            "",
            ("5) PURGE CACHES: the host keeps old commits reachable by their hashes (cached views, pull requests). "
            "On GitHub, contact GitHub Support to remove cached views and pull-request references:"),
            ("       https://docs.github.com/authentication/keeping-your-account-and-data-secure/"
            "removing-sensitive-data-from-a-repository"),
            "   Other hosts: ask their support or administrators to run housekeeping / garbage collection.",
            "",
            "6) DELETE THE REPLACEMENTS FILE: it holds every secret in clear:",
            f"       shred -u {file_arg}",
            ""]
    return "\n".join(out)


def run(repo: str, output: str, rule_files: tuple[str, ...] = (), no_suppress: bool = False,
        jobs: int | None = None, force: bool = False) -> tuple[str, int]:
    """Scan, write FILE, and return the steps to print and how many distinct secrets FILE holds."""
    from scanner.pipeline.run import ScanOptions, history_scan
    from scanner.sources.git import open_repo

    repository = open_repo(repo)
    repository.close_view()  # only its locations and remote URLs are needed: history_scan opens its own
    check_output(output, repository.workdir, repository.git_dir, force)
    opts = ScanOptions(rule_files=rule_files, no_suppress=no_suppress)
    if jobs:
        opts.jobs = min(jobs, opts.jobs)
    report = history_scan(repo, opts)
    leaks, skipped = leaks_from(report.findings)
    label = repository.location
    if not leaks:
        return f"tokenscan remediate: no credentials in the history of {label}: nothing to do; {output} not written\n", 0
    # No comment lines: filter-repo's --replace-text has none; a `#` line would be one more literal to replace.
    write_secret_file(output, "\n".join(replacement_lines(leaks)) + "\n", force)
    return (plan_text(leaks, output, label, remote_url(repository), skipped, report.suppressed,
                      len(report.incomplete)), len(leaks))
