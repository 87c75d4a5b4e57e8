"""A private view of a repository tokenscan does not trust, so neither git nor libgit2 reads its config.

A repository's own `.git/config` can make git run commands (`core.fsmonitor`, `core.sshCommand`, a remote
URL of `ext::sh -c …`, `remote.*.uploadpack`, `credential.helper`, `diff.*.textconv`, `log.showSignature`
with `gpg.program`, …), send traffic elsewhere (`http.proxy`, `url.*.insteadOf`, `http.cookieFile`) or
hang every reader (`include.path` naming a FIFO). Overriding keys one by one with `-c` cannot close that
list: some keys are first-wins, some are per-URL, includes cannot be switched off. So a scanned repository
is never opened where it lies. tokenscan builds a view in a private temporary folder and points git and
pygit2 at that instead:

- `config` is written here: the format version and extensions the repository declares, and its promisor
  remotes whose URL uses an allowed transport (nothing else of the repository's config is read, includes
  never);
- `objects/info/alternates` names the repository's object store, so every object is read in place (git and
  libgit2 chain its own alternates from there); a promised-object fetch writes into the real store through
  GIT_OBJECT_DIRECTORY (see scanner.sources.gitbin);
- `HEAD`, `refs/`, `packed-refs` and `shallow` are copied (regular files only: a FIFO among
  them would hang a reader), so nothing git writes lands in the scanned repository.

The view is removed when the process ends (or sooner, with `close`). Only object data and refs are read.

One module on purpose: finding a repository, reading its config as data and building the view are the
whole trust boundary for scanned repositories; reviewed in one place.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NoReturn

from scanner.errors import UsageError
from scanner.safeio import read_file

VIEW_PREFIX = "tokenscan-view-"
ALLOWED_TRANSPORTS = ("https", "http", "ssh", "git", "file")
_MAX_CONFIG = 16 << 20  # bytes of a repository config read at most
_MAX_REF = 1 << 16  # a loose ref, HEAD or shallow line list beyond this is not a ref


@dataclass(frozen=True)
class Located:
    """Where a repository is: its git dir, the common dir holding objects and refs, its work tree."""

    git_dir: str
    common_dir: str
    workdir: str | None


@dataclass
class RepoView:
    """A view built for one scan of one repository; `path` is what git and pygit2 are given."""

    path: str
    located: Located
    refused_remotes: dict[str, str] = field(default_factory=dict)  # promisor remote -> why it is not used
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (what, why) the view left out
    remote_urls: dict[str, str] = field(default_factory=dict)  # every remote's URL, as text (shown, never used)

    held: bool = False  # by holding(): every open of this repository shares the view until it ends
    inner: list[RepoView] = field(default_factory=list)  # views of local promisor remotes, served from here

    def close(self) -> None:
        if self.held:
            return
        for v in self.inner:
            v.close()
        from scanner.sources.blobs import forget

        forget(self.path)  # this process's libgit2 handle on the view (its packs stay open otherwise)
        shutil.rmtree(self.path, ignore_errors=True)
        _VIEWS.pop(self.path, None)


# --- finding the repository, as git does, without running git ------------------------------------------

def read_regular(path: str, limit: int = _MAX_REF) -> bytes | None:
    """A regular file's bytes (None for a FIFO, device, directory, missing or oversized file)."""
    try:
        return read_file(path, limit)
    except OSError:
        return None


def _is_git_dir(d: str) -> bool:
    head = read_regular(os.path.join(d, "HEAD"))
    if head is None or not (head.startswith(b"ref: refs/") or re.fullmatch(rb"[0-9a-f]{40,64}\s*", head)):
        return False
    common = _common_dir(d)
    return os.path.isdir(os.path.join(common, "objects")) and os.path.isdir(os.path.join(common, "refs"))


def _common_dir(git_dir: str) -> str:
    named = read_regular(os.path.join(git_dir, "commondir"))
    if named is None:
        return git_dir
    text = os.fsdecode(named.strip())
    return text if os.path.isabs(text) else os.path.normpath(os.path.join(git_dir, text))


def _gitfile(path: str) -> str | None:
    data = read_regular(path)
    if data is None or not data.startswith(b"gitdir: "):
        return None
    target = os.fsdecode(data[len(b"gitdir: "):].strip())
    return target if os.path.isabs(target) else os.path.normpath(os.path.join(os.path.dirname(path), target))


def locate(path: str) -> Located | None:
    """The repository holding path (walking up, as git does), or None; UsageError for a damaged `.git` on
    the way (never its enclosing repository instead). Reads only HEAD, `.git` files and `commondir`; never
    a config."""
    d = os.path.abspath(path)
    while True:
        dot = os.path.join(d, ".git")
        if os.path.isdir(dot) and _is_git_dir(dot):
            return Located(dot, _common_dir(dot), d)
        if os.path.isfile(dot):
            target = _gitfile(dot)
            if target and _is_git_dir(target):
                return Located(target, _common_dir(target), d)
        if os.path.lexists(dot):  # there, but damaged: never the enclosing repository instead
            raise UsageError(f"{dot}: not a valid git directory (HEAD, objects/ or refs/ missing or damaged)")
        if _is_git_dir(d):
            return Located(d, _common_dir(d), None)
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def top_level(path: str) -> str:
    """The work tree (or git dir of a bare repository) holding path; path itself outside any repository."""
    try:
        found = locate(path) if os.path.exists(path) else None
    except UsageError:
        found = None
    if found is None:
        return path
    return found.workdir or found.git_dir


# --- the repository's config, read as data ----------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def parse_config(text: str) -> list[tuple[str, str | None]]:
    """(key, value) pairs of a git config file, in order: `section.subsection.name` with section and name
    lower-cased as git compares them. A value-less key is None (git reads it as true). Includes are not
    followed. ValueError names the line git would reject."""
    out: list[tuple[str, str | None]] = []
    section = ""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c in "#;":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "[":
            end = text.find("]", i)
            if end < 0:
                raise ValueError(f"bad config line {line}")
            head = text[i + 1:end]
            m = re.fullmatch(r'\s*([A-Za-z0-9.-]+)\s+"((?:[^"\\\n]|\\.)*)"\s*', head)
            if m:
                section = m[1].lower() + "." + re.sub(r"\\(.)", r"\1", m[2])
            elif re.fullmatch(r"[A-Za-z0-9.-]+", head):
                name, _, sub = head.partition(".")
                section = name.lower() + ("." + sub.lower() if sub else "")
            else:
                raise ValueError(f"bad config line {line}")
            i = end + 1
        elif c.isalpha():
            m = re.compile(r"[A-Za-z][A-Za-z0-9-]*").match(text, i)
            assert m is not None
            name = m[0].lower()
            i = m.end()
            while i < n and text[i] in " \t":
                i += 1
            if not section:
                raise ValueError(f"bad config line {line}")
            if i >= n or text[i] in "\n#;":
                out.append((f"{section}.{name}", None))
                continue
            if text[i] != "=":
                raise ValueError(f"bad config line {line}")
            i += 1
            value, quoted, pending = [], False, ""
            while i < n:
                ch = text[i]
                if ch == "\n" and not quoted:
                    break
                if ch == "\n":
                    raise ValueError(f"bad config line {line}")
                if ch == "\\":
                    nxt = text[i + 1:i + 2]
                    if nxt == "\n":
                        line += 1
                        i += 2
                        continue
                    if nxt not in _ESCAPES:
                        raise ValueError(f"bad config line {line}")
                    value.append(pending + _ESCAPES[nxt])
                    pending = ""
                    i += 2
                    continue
                if ch == '"':
                    quoted = not quoted
                    value.append(pending)
                    pending = ""
                elif not quoted and ch in "#;":
                    while i < n and text[i] != "\n":
                        i += 1
                    break
                elif not quoted and ch in " \t":
                    pending += ch  # kept only if something follows
                else:
                    value.append(pending + ch)
                    pending = ""
                i += 1
            if quoted:
                raise ValueError(f"bad config line {line}")
            out.append((f"{section}.{name}", "".join(value).lstrip(" \t")))
        else:
            raise ValueError(f"bad config line {line}")
    return out


def transport_refusal(url: str) -> str | None:
    """Why a remote URL may not be fetched from (None when it may): only https, http, ssh (the system's
    ssh), git and file transports; never `ext::`, `fd::` or another remote helper, which run programs."""
    if not url or "\n" in url or "\0" in url:
        return "empty or malformed URL"
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)::", url)
    if m:
        return f"the {m[1]}:: transport runs a program"
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if m:
        scheme = m[1].lower()
        if scheme in ("git+ssh", "ssh+git"):
            scheme = "ssh"
        if scheme not in ALLOWED_TRANSPORTS:
            return f"the {m[1]}:// transport is not one of {', '.join(ALLOWED_TRANSPORTS)}"
        host = url[m.end():].split("/", 1)[0].rsplit("@", 1)[-1]
        if host.startswith("-"):
            return "a host name starting with '-' would be read as an option"
        return None
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash < 0 or colon < slash):  # scp-like [user@]host:path is ssh
        if url.rsplit("@", 1)[-1].startswith("-") or url.startswith("-"):
            return "a host name starting with '-' would be read as an option"
        return None
    if url.startswith("-"):
        return "a path starting with '-' would be read as an option"
    return None  # a local path: the file transport


# --- building the view ------------------------------------------------------------------------------------

_VIEWS: dict[str, int] = {}  # view path -> pid that made it (forked workers must not remove the parent's)


def _cleanup() -> None:
    for path, pid in list(_VIEWS.items()):
        if pid == os.getpid():
            shutil.rmtree(path, ignore_errors=True)
            _VIEWS.pop(path, None)


atexit.register(_cleanup)
_SWEPT: list[int] = []


def _sweep() -> None:
    """Removes views left by processes that died without cleaning up (kill -9), once per process."""
    if _SWEPT == [os.getpid()]:
        return
    _SWEPT[:] = [os.getpid()]
    tmp = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(tmp) if n.startswith(VIEW_PREFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(VIEW_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or not ours to signal): left alone
        except ProcessLookupError:
            pass
        except OSError:
            continue
        path = os.path.join(tmp, name)
        try:
            if os.lstat(path).st_uid == os.getuid():
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


_NOT_REGULAR = "not a regular file: the refs it may hold were not read"


def _copy_refs(src: str, dst: str, ignored: list[tuple[str, str]]) -> None:
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = os.path.relpath(root, src)
        target = os.path.join(dst, rel) if rel != "." else dst
        os.makedirs(target, exist_ok=True)
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                dirs.remove(d)
                ignored.append((os.path.normpath(os.path.join("refs", rel, d)), _NOT_REGULAR))
        for f in files:
            path = os.path.join(root, f)
            data = None if os.path.islink(path) else read_regular(path)
            if data is None:
                ignored.append((os.path.normpath(os.path.join("refs", rel, f)), _NOT_REGULAR))
                continue
            with open(os.path.join(target, f), "wb") as fh:
                fh.write(data)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HELD: dict[str, RepoView] = {}  # realpath -> the view every open of it shares, inside holding()


@contextlib.contextmanager
def holding(path: str) -> Iterator[RepoView]:
    """One view of path for everything inside the block (an audit's target is opened by several stages);
    removed at its end. UsageError as open_view."""
    key = os.path.realpath(path)
    if key in _HELD:
        yield _HELD[key]
        return
    view = open_view(path)
    view.held = True
    _HELD[key] = view
    try:
        yield view
    finally:
        _HELD.pop(key, None)
        view.held = False
        view.close()


MAX_LOCAL_CHAIN = 3  # a local promisor remote's own local promisor remote... (a loop ends here)


def local_path(url: str) -> str | None:
    """The path a local remote URL (file:// or a plain path) names; None for a network URL."""
    if url.startswith("file://"):
        from urllib.parse import unquote

        rest = url[len("file://"):]
        return unquote(rest if rest.startswith("/") else "/" + rest.split("/", 1)[-1])
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        return None
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash < 0 or colon < slash):
        return None  # scp-like host:path
    return url


def open_view(path: str, _depth: int = 0) -> RepoView:
    """The view of the repository holding path (the held one inside holding()). UsageError when there is
    none, or its config is one git would refuse (a line it cannot parse).

    A promisor remote on this disk is served from a view of its own (git's upload-pack reads the config
    of the repository it serves, and a hostile folder can name another hostile folder)."""
    held = _HELD.get(os.path.realpath(path))
    if held is not None:
        return held
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or directory")
    found = locate(path)
    if found is None:
        raise UsageError(f"{path}: not a git repository")
    cfg_path = os.path.join(found.common_dir, "config")
    raw = read_regular(cfg_path, _MAX_CONFIG) if os.path.exists(cfg_path) else b""
    if raw is None:
        raise UsageError(f"{path}: cannot open repository: {cfg_path} is not a readable regular file")
    try:
        entries = parse_config(raw.decode("utf-8", "surrogateescape"))
    except ValueError as exc:
        raise UsageError(f"{path}: cannot open repository: {exc} in {cfg_path}") from None
    conf: dict[str, str | None] = {}
    for key, value in entries:
        conf[key.lower() if key.count(".") == 1 else key] = value  # last wins, as git reads single values

    _check_store(os.path.join(found.common_dir, "objects"))
    _sweep()
    view = RepoView(tempfile.mkdtemp(prefix=f"{VIEW_PREFIX}{os.getpid()}-"), found)
    _VIEWS[view.path] = os.getpid()
    try:
        _build(view, found, conf, _depth)
    except OSError as exc:
        view.close()
        raise UsageError(f"{path}: cannot open repository: {exc.strerror or exc}") from None
    except BaseException:
        view.close()
        raise
    return view


def _check_store(objects: str, depth: int = 0) -> None:
    """Refuses an object store holding something git would block on or never finish reading (a FIFO, socket
    or device where a pack, index, commit-graph, alternates or loose object is read): git opens those with a
    plain open(), so one planted FIFO would hang every reader. Follows alternates as git does."""
    def bad(path: str) -> NoReturn:
        raise UsageError(f"{path}: not a regular file in the object store (it would hang git); not scanned")

    for sub in ("pack", "info", os.path.join("info", "commit-graphs"),
                *(f"{i:02x}" for i in range(256))):
        try:
            entries = os.scandir(os.path.join(objects, sub))
        except OSError:
            continue
        with entries:
            for e in entries:
                try:
                    if not e.is_file() and not e.is_dir():
                        bad(e.path)
                except OSError:
                    bad(e.path)
    alternates = os.path.join(objects, "info", "alternates")
    if depth < 5 and os.path.lexists(alternates):
        data = read_regular(alternates, 1 << 16)
        if data is None:
            bad(alternates)
        for line in os.fsdecode(data).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                _check_store(line if os.path.isabs(line) else os.path.normpath(os.path.join(objects, line)), depth + 1)


def _build(view: RepoView, found: Located, conf: dict[str, str | None], depth: int) -> None:
    lines = ["[core]", f"\trepositoryformatversion = {conf.get('core.repositoryformatversion') or 0}",
             "\tbare = true", "[uploadpack]", "\tallowFilter = true", "\tallowAnySHA1InWant = true"]
    extensions = {k.split(".", 1)[1]: v for k, v in conf.items() if k.startswith("extensions.") and k.count(".") == 1}
    extensions.pop("worktreeconfig", None)  # a per-worktree config is the repository's config too: not read
    promisors = [v for k, v in extensions.items() if k == "partialclone" and v]
    promisors += [k[len("remote."):-len(".promisor")] for k, v in conf.items()
                  if k.startswith("remote.") and k.endswith(".promisor") and k.count(".") >= 2
                  and (v is None or v.lower() in ("true", "1", "yes", "on"))]
    view.remote_urls.update((k[len("remote."):-len(".url")], v or "") for k, v in conf.items()
                            if k.startswith("remote.") and k.endswith(".url") and k.count(".") >= 2)
    safe: list[str] = []
    urls: dict[str, str] = {}
    for name in dict.fromkeys(promisors):
        url = conf.get(f"remote.{name}.url") or ""
        why = transport_refusal(url) if url else "it has no URL"
        local = local_path(url) if not why else None
        if local is not None:
            if not os.path.isabs(local):
                local = os.path.normpath(os.path.join(found.workdir or found.git_dir, local))  # as git resolves it
            if depth >= MAX_LOCAL_CHAIN:
                why = f"a chain of more than {MAX_LOCAL_CHAIN} local promisor remotes"
            else:
                try:
                    inner = open_view(local, depth + 1)
                    view.inner.append(inner)
                    url = "file://" + inner.path
                except UsageError as exc:
                    why = f"its repository cannot be served: {exc}"
        if why:
            view.refused_remotes[name] = why
        else:
            safe.append(name)
            urls[name] = url
    if extensions.get("partialclone") and extensions["partialclone"] not in safe:
        extensions.pop("partialclone")
        if safe:
            extensions["partialclone"] = safe[0]
    if extensions:
        lines.append("[extensions]")
        lines += [f"\t{k} = {_quote(v or 'true')}" for k, v in extensions.items()]
    for name in safe:
        lines += [f"[remote {_quote(name)}]", f"\turl = {_quote(urls[name])}", "\tpromisor = true"]
        filt = conf.get(f"remote.{name}.partialclonefilter")
        if filt:
            lines.append(f"\tpartialclonefilter = {_quote(filt)}")
    with open(os.path.join(view.path, "config"), "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write("\n".join(lines) + "\n")

    head = read_regular(os.path.join(found.git_dir, "HEAD")) or b""
    with open(os.path.join(view.path, "HEAD"), "wb") as fh:
        fh.write(head)
    os.makedirs(os.path.join(view.path, "objects", "info"))
    os.makedirs(os.path.join(view.path, "objects", "pack"))
    with open(os.path.join(view.path, "objects", "info", "alternates"), "w", encoding="utf-8",
              errors="surrogateescape") as fh:
        fh.write(os.path.realpath(os.path.join(found.common_dir, "objects")) + "\n")
    _copy_refs(os.path.join(found.common_dir, "refs"), os.path.join(view.path, "refs"), view.ignored)
    for name in ("packed-refs", "shallow"):  # not info/grafts: like replace refs, it would rewrite history
        src = os.path.join(found.common_dir, name)
        if not os.path.lexists(src):
            continue
        data = read_regular(src, 1 << 31)
        if data is None:
            view.ignored.append((name, "not a regular file: not read"))
            continue
        if name == "shallow":  # libgit2 refuses a whole repository over one bad line: keep the object ids
            rows = data.split(b"\n")
            good = [ln for ln in rows if re.fullmatch(rb"[0-9a-f]{40}|[0-9a-f]{64}", ln.strip())]
            if len(good) != len([ln for ln in rows if ln.strip()]):
                view.ignored.append((name, "lines that are not object ids were ignored (a damaged shallow list)"))
            data = b"".join(ln.strip() + b"\n" for ln in good)
            if not data:
                continue
        with open(os.path.join(view.path, name), "wb") as fh:
            fh.write(data)


def object_dir_of(view_path: str) -> str | None:
    """The scanned repository's own object directory behind a view (where a fetch must write), or None
    when view_path is not a view."""
    if not os.path.basename(os.path.normpath(view_path)).startswith(VIEW_PREFIX):
        return None
    data = read_regular(os.path.join(view_path, "objects", "info", "alternates"))
    return os.fsdecode(data.splitlines()[0]) if data else None
