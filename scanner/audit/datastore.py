"""The audit datastore: one SQLite file (stdlib sqlite3, WAL) shared by every audit of an organisation.

Why SQLite: embedded (nothing to run), transactional, and WAL lets readers go on while one audit writes;
several audits on one file serialise their short write transactions through busy_timeout instead of
failing. Every write is one `BEGIN IMMEDIATE` transaction, so a crash or a kill leaves the file as it was
before that transaction, never half-merged.

What it holds: targets, their scans (when, which refs, which rule set), every blob already scanned under a
rule set (by object id: a content address, so a fork that shares history shares these), the findings each
such blob holds (so a skipped blob still reports them), findings by fingerprint with every place they
occur, and their triage. Secrets are stored only for an audit run with --show-secrets; the file is created
owner-only (0600) in any case, since even redacted findings say where an organisation's leaks are.

The schema is versioned with PRAGMA user_version and upgraded by the numbered steps in MIGRATIONS, each in
the same transaction as its version bump; a file from a newer tokenscan is refused untouched.

One module on purpose: the schema, its numbered migrations and every query that depends on them change
together (a column added is a migration and the queries that use it, reviewed as one diff).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from scanner.errors import UsageError
from scanner.findings import printable

STATUSES = ("open", "false-positive", "revoked", "accepted-risk", "fixed")
# A decision that says the credential is dead or harmless is contradicted when a later verification finds it
# live: shown as e.g. revoked-but-live, and it fails the gate like an open finding. accepted-risk is not: a
# live credential whose risk was accepted is what that status means.
CONTRADICTED_BY_LIVE = ("revoked", "fixed", "false-positive")
SHOWN_STATUSES = (*STATUSES, *(f"{s}-but-live" for s in CONTRADICTED_BY_LIVE))
BUSY_TIMEOUT_MS = 60_000  # a concurrent audit's merge is short; a minute of waiting means something is wrong

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: targets, scans, blobs scanned per rule set, findings and places
        """CREATE TABLE targets (
            id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, added_at TEXT NOT NULL)""",
        """CREATE TABLE rulesets (
            id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, rules INTEGER NOT NULL, first_used TEXT NOT NULL)""",
        """CREATE TABLE scans (
            id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL REFERENCES targets(id),
            ruleset_id INTEGER NOT NULL REFERENCES rulesets(id), started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
            refs TEXT NOT NULL, blobs_planned INTEGER NOT NULL, blobs_read INTEGER NOT NULL,
            bytes_scanned INTEGER NOT NULL, findings INTEGER NOT NULL, warnings TEXT NOT NULL,
            status TEXT NOT NULL, error TEXT)""",
        # one row per blob per rule set, so kept small: the rule set's number and the binary object id
        """CREATE TABLE scanned_blobs (
            ruleset_id INTEGER NOT NULL, oid BLOB NOT NULL, findings INTEGER NOT NULL,
            PRIMARY KEY (ruleset_id, oid)) WITHOUT ROWID""",
        """CREATE TABLE blob_findings (
            ruleset_id INTEGER NOT NULL, oid BLOB NOT NULL, rule_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
            path_suffix TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, offset INTEGER NOT NULL,
            encoding TEXT NOT NULL, checksum TEXT NOT NULL, tags TEXT NOT NULL, inline_allowed INTEGER NOT NULL,
            description TEXT NOT NULL, severity TEXT NOT NULL, verify_kind TEXT, prefix TEXT NOT NULL,
            redacted TEXT NOT NULL, secret TEXT, source TEXT NOT NULL DEFAULT 'blob',
            PRIMARY KEY (ruleset_id, oid, fingerprint, rule_id, path_suffix, line, col, encoding)) WITHOUT ROWID""",
        """CREATE TABLE findings (
            fingerprint TEXT PRIMARY KEY, rule_id TEXT NOT NULL, description TEXT NOT NULL,
            severity TEXT NOT NULL, redacted TEXT NOT NULL, secret TEXT, first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL, verification TEXT NOT NULL DEFAULT 'not-checked',
            status TEXT NOT NULL DEFAULT 'open', note TEXT NOT NULL DEFAULT '', triaged_at TEXT)""",
        """CREATE TABLE places (
            fingerprint TEXT NOT NULL REFERENCES findings(fingerprint), target_id INTEGER NOT NULL
            REFERENCES targets(id), commit_id TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL,
            col INTEGER NOT NULL, source TEXT NOT NULL, author TEXT, date TEXT, at_head INTEGER,
            first_scan INTEGER NOT NULL, last_scan INTEGER NOT NULL,
            PRIMARY KEY (fingerprint, target_id, commit_id, path, line, col, source))""",
    ),
    (  # 2: who changed a triage status, when, and why (the findings row keeps only the current one)
        """CREATE TABLE triage_log (
            id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL,
            at TEXT NOT NULL, by TEXT NOT NULL)""",
        "CREATE INDEX places_by_scan ON places (target_id, last_scan)",
    ),
    (  # 3: when the verification status was last set, so a revocation that did not take can be told apart
        # from one made after the last check (triaged_at is compared with it)
        "ALTER TABLE findings ADD COLUMN verified_at TEXT",
    ),
    (  # 4: what makes a repository's next audit cheap (issue 15). state: a digest of everything its report
        # depends on (refs, rule set, suppression inputs); reported: that report's findings, so an unchanged
        # repository is not scanned again at all. covered: commits whose whole history was scanned under a
        # rule set (tips and first-parent checkpoints), so a fork or a new commit walks only what is new.
        # commit_adds: which blobs that hold findings each scanned commit adds, and at which path, so
        # attribution never walks old history again.
        "ALTER TABLE scans ADD COLUMN state TEXT",
        "ALTER TABLE scans ADD COLUMN reported TEXT",
        """CREATE TABLE covered (
            ruleset_id INTEGER NOT NULL, commit_id BLOB NOT NULL, PRIMARY KEY (ruleset_id, commit_id)) WITHOUT ROWID""",
        """CREATE TABLE commit_adds (
            ruleset_id INTEGER NOT NULL, commit_id BLOB NOT NULL, oid BLOB NOT NULL, path TEXT NOT NULL,
            PRIMARY KEY (ruleset_id, commit_id, oid, path)) WITHOUT ROWID""",
    ),
    (  # 5: the rule-set hash by a digest of its sources (rule files' text, settings, loader, version), so
        # an audit that finds every repository unchanged never parses a rule file (issue 15)
        """CREATE TABLE ruleset_sources (
            digest TEXT PRIMARY KEY, hash TEXT NOT NULL, rules INTEGER NOT NULL, paths_matter INTEGER NOT NULL)""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
OUR_TABLES = frozenset({"targets", "rulesets", "scans", "scanned_blobs", "blob_findings", "findings", "places"})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stamp() -> str:
    """now() to the microsecond: triage and verification times are compared with each other, and a test (or
    a script) may triage and re-verify within the same second."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def effective_status(status: str, verification: str, verified_at: str | None, triaged_at: str | None) -> str:
    """The status to show and gate on: the triage decision, unless it says the credential is dead and a
    verification made after the decision found it live (then `revoked-but-live`: the rotation did not take)."""
    if (status in CONTRADICTED_BY_LIVE and verification == "live" and verified_at
            and (triaged_at is None or verified_at > triaged_at)):
        return f"{status}-but-live"
    return status


def check_fingerprint(text: str) -> str:
    """A fingerprint or a prefix of one as reports print it (lower-cased); UsageError otherwise."""
    fp = text.strip().lower()
    if len(fp) < 8 or any(c not in "0123456789abcdef" for c in fp):
        raise UsageError(f"triage set: '{text}' is not a fingerprint (at least 8 hex characters)")
    return fp


def gates(status: str) -> bool:
    """Whether a finding with this (shown) status fails an audit's gate: open ones, and contradicted ones."""
    return status == "open" or status.endswith("-but-live")


def default_path() -> str:
    """$XDG_DATA_HOME/tokenscan/datastore.db (~/.local/share when unset): data, not a cache: triage lives here."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "tokenscan", "datastore.db")


@dataclass(frozen=True)
class StoredFinding:
    """A finding inside a blob, independent of where the blob sits: what a skipped blob contributes."""

    rule_id: str
    fingerprint: str
    path_suffix: str  # after the blob's path (an archive member); usually ""
    line: int
    col: int
    offset: int
    encoding: str
    checksum: str
    tags: tuple[str, ...]
    inline_allowed: bool
    description: str
    severity: str
    verify_kind: str | None
    prefix: str
    redacted: str
    secret: str | None  # only when an audit ran with --show-secrets
    source: str = "blob"  # blob | commit-message (then the key is the commit's id)


@dataclass
class ScanRecord:
    """What one repository's scan adds to the datastore (built by a worker, merged by the client)."""

    target_key: str
    target_kind: str
    ruleset: str
    rules: int
    started_at: str
    finished_at: str
    refs: dict[str, str]
    blobs_planned: int
    blobs_read: list[str]  # blob ids read and fully scanned this time
    blob_findings: dict[str, list[StoredFinding]]  # for blobs and messages read that hold findings
    bytes_scanned: int
    findings: list[dict]  # reported findings (see runner.place_dict): fingerprint, place, redacted, secret?
    warnings: list[dict]
    status: str = "ok"  # ok | failed
    error: str | None = None
    messages_read: list[str] = field(default_factory=list)  # commits whose messages were read (cached like blobs)
    state: str | None = None  # digest of the report's inputs (runner.state_key); None: never skip this one
    reported: str | None = None  # JSON of the report (findings without secrets), for an unchanged next audit
    covered: list[str] = field(default_factory=list)  # commits whose whole history this scan covered
    adds: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # commit -> (blob, path) it adds


def _path_cell(path: str) -> str | bytes:
    """A git path as stored: text, or its raw bytes when they are not UTF-8 (the OS layer's surrogate escapes
    cannot be encoded as text, and must come back exactly to match the tree)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")


def _path_of_cell(cell: str | bytes) -> str:
    return cell.decode("utf-8", "surrogateescape") if isinstance(cell, bytes) else cell


class Datastore:
    def __init__(self, path: str, *, upto: int | None = None) -> None:
        """Open (creating owner-only) and migrate to SCHEMA_VERSION (or `upto`, for tests of upgrades)."""
        self.path = path
        if path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(folder, exist_ok=True)
                if not os.path.exists(path):  # owner-only from the first byte, like secret-bearing reports
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError as exc:
                raise UsageError(f"--datastore {path}: {exc.strerror or exc}") from None
            if os.path.isdir(path):
                raise UsageError(f"--datastore {path}: is a directory")
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                      check_same_thread=False)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = self._version()
            self._refuse_foreign(version)  # before anything below writes (WAL switch, migrations)
            if version > SCHEMA_VERSION:
                self.db.close()
                raise UsageError(f"--datastore {path}: schema version {version} is newer than this tokenscan "
                                 f"understands ({SCHEMA_VERSION}); upgrade tokenscan (the file was not changed)")
            if path != ":memory:":
                self._wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            self._migrate(upto if upto is not None else SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "db"):
                self.db.close()
            raise UsageError(f"--datastore {path}: not a tokenscan datastore, or a damaged one ({exc}); the file "
                             f"was not changed") from None

    def _refuse_foreign(self, version: int) -> None:
        """Another program's SQLite file (or ours from a newer tokenscan, checked after this) is never
        touched: migrating it would add our tables to someone else's database, and even switching it to
        WAL rewrites its header. An empty file is a new datastore."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables and version == 0:
            return
        if version > SCHEMA_VERSION and "findings" in tables:
            return  # ours, from a newer tokenscan: the caller says so
        if not OUR_TABLES <= tables:
            self.db.close()
            names = ", ".join(sorted(tables)[:6]) + (", …" if len(tables) > 6 else "") if tables else "none"
            raise UsageError(f"--datastore {self.path}: an SQLite database but not a tokenscan datastore "
                             f"(tables: {names}; user_version {version}); the file was not changed")

    def _version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _wal(self) -> None:
        """Switching to WAL needs a moment alone with the file; a concurrent opener may hold it."""
        for _ in range(200):
            try:
                mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() == "wal":
                    return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            time.sleep(0.05)
        raise UsageError(f"--datastore {self.path}: cannot switch to WAL mode (the file stays locked)")

    def _migrate(self, target: int) -> None:
        if self._version() >= target:
            return
        self.db.execute("BEGIN IMMEDIATE")  # one migrator at a time; the others see the new version after
        try:
            version = self._version()
            if version > SCHEMA_VERSION:
                raise UsageError(f"--datastore {self.path}: schema version {version} is newer than this tokenscan")
            for step in range(version, target):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step + 1}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @property
    def version(self) -> int:
        return self._version()

    def close(self) -> None:
        self.db.close()

    def secure(self) -> None:
        """--show-secrets: secrets go in, so the file and its WAL companions must be the owner's alone."""
        if self.path == ":memory:":
            return
        for suffix in ("", "-wal", "-shm"):
            if os.path.isfile(self.path + suffix):
                os.chmod(self.path + suffix, 0o600)

    # --- incremental scanning ------------------------------------------------------------------------------

    def _ruleset_id(self, ruleset: str) -> int | None:
        row = self.db.execute("SELECT id FROM rulesets WHERE hash = ?", (ruleset,)).fetchone()
        return None if row is None else int(row[0])

    def known_blobs(self, ruleset: str, oids: Sequence[str]) -> dict[str, list[StoredFinding]]:
        """Of oids, those already scanned under ruleset, each with the findings it holds (usually none)."""
        out: dict[str, list[StoredFinding]] = {}
        rid = self._ruleset_id(ruleset)
        if rid is None:  # a rule set never used: nothing is known, everything is read
            return out
        with_findings: list[bytes] = []
        for i in range(0, len(oids), 500):
            part = [bytes.fromhex(o) for o in oids[i:i + 500]]
            marks = ",".join("?" * len(part))
            for raw, n in self.db.execute(
                    f"SELECT oid, findings FROM scanned_blobs WHERE ruleset_id = ? AND oid IN ({marks})",
                    [rid, *part]):
                out[raw.hex()] = []
                if n:
                    with_findings.append(raw)
        for i in range(0, len(with_findings), 500):
            part = with_findings[i:i + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                    f"SELECT oid, rule_id, fingerprint, path_suffix, line, col, offset, encoding, checksum, tags, "
                    f"inline_allowed, description, severity, verify_kind, prefix, redacted, secret, source "
                    f"FROM blob_findings WHERE ruleset_id = ? AND oid IN ({marks})", [rid, *part]):
                out[row[0].hex()].append(_stored(row[1:]))
        return out

    def last_states(self, ruleset: str, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """target key -> (state, reported) of its latest scan, when that scan succeeded under ruleset and
        recorded both: what an unchanged repository's audit reports without scanning."""
        out: dict[str, tuple[str, str]] = {}
        rid = self._ruleset_id(ruleset)
        if rid is None:
            return out
        for key in keys:
            row = self.db.execute(
                "SELECT s.ruleset_id, s.status, s.state, s.reported FROM scans s JOIN targets t ON t.id = s.target_id "
                "WHERE t.key = ? ORDER BY s.id DESC LIMIT 1", (key,)).fetchone()
            if row is not None and row[0] == rid and row[1] == "ok" and row[2] and row[3]:
                out[key] = (row[2], row[3])
        return out

    def ruleset_for(self, digest: str) -> tuple[str, int, bool] | None:
        """(rule-set hash, rules, paths matter) recorded for these rule sources, if any audit saw them."""
        row = self.db.execute("SELECT hash, rules, paths_matter FROM ruleset_sources WHERE digest = ?",
                              (digest,)).fetchone()
        return None if row is None else (str(row[0]), int(row[1]), bool(row[2]))

    def remember_ruleset(self, digest: str, ruleset: str, rules: int, paths_matter: bool) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("INSERT OR REPLACE INTO ruleset_sources (digest, hash, rules, paths_matter) "
                            "VALUES (?, ?, ?, ?)", (digest, ruleset, rules, int(paths_matter)))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def covered(self, ruleset: str) -> list[str]:
        """Commits whose whole history was scanned (and recorded) under ruleset, by some earlier scan."""
        rid = self._ruleset_id(ruleset)
        if rid is None:
            return []
        return [r[0].hex() for r in self.db.execute("SELECT commit_id FROM covered WHERE ruleset_id = ?", (rid,))]

    def commit_adds(self, ruleset: str) -> dict[str, list[tuple[str, str]]]:
        """commit -> [(blob, path)]: the blobs holding findings that each scanned commit adds (few rows: only
        blobs with findings are kept)."""
        out: dict[str, list[tuple[str, str]]] = {}
        rid = self._ruleset_id(ruleset)
        if rid is None:
            return out
        for commit, oid, path in self.db.execute(
                "SELECT commit_id, oid, path FROM commit_adds WHERE ruleset_id = ?", (rid,)):
            out.setdefault(commit.hex(), []).append((oid.hex(), _path_of_cell(path)))
        return out

    def finding_objects(self, ruleset: str) -> tuple[set[str], set[str]]:
        """(blobs, commits whose messages) holding findings under ruleset: the universe attribution needs."""
        rid = self._ruleset_id(ruleset)
        blobs: set[str] = set()
        messages: set[str] = set()
        if rid is None:
            return blobs, messages
        for oid, source in self.db.execute(
                "SELECT DISTINCT oid, source FROM blob_findings WHERE ruleset_id = ?", (rid,)):
            (messages if source == "commit-message" else blobs).add(oid.hex())
        return blobs, messages

    def snapshot(self, ruleset: str) -> tuple[frozenset[str], dict[str, list[StoredFinding]]]:
        """Every blob known under ruleset: clean ones as a set, the others with their findings. For workers
        of a distributed audit, which never open the datastore (it may not even be on their machine)."""
        rid = self._ruleset_id(ruleset)
        clean = frozenset(r[0].hex() for r in self.db.execute(
            "SELECT oid FROM scanned_blobs WHERE ruleset_id = ? AND findings = 0", (rid,)))
        found: dict[str, list[StoredFinding]] = {}
        for row in self.db.execute(
                "SELECT oid, rule_id, fingerprint, path_suffix, line, col, offset, encoding, checksum, tags, "
                "inline_allowed, description, severity, verify_kind, prefix, redacted, secret, source "
                "FROM blob_findings WHERE ruleset_id = ?", (rid,)):
            found.setdefault(row[0].hex(), []).append(_stored(row[1:]))
        return clean, found

    # --- merging a scan ------------------------------------------------------------------------------------

    def merge(self, rec: ScanRecord, store_secrets: bool) -> int:
        """Records one repository's scan in one transaction; returns the scan id. Only the client process
        calls this: workers return ScanRecords."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR IGNORE INTO targets (key, kind, added_at) VALUES (?, ?, ?)",
                       (rec.target_key, rec.target_kind, rec.started_at))
            target_id = db.execute("SELECT id FROM targets WHERE key = ?", (rec.target_key,)).fetchone()[0]
            db.execute("INSERT OR IGNORE INTO rulesets (hash, rules, first_used) VALUES (?, ?, ?)",
                       (rec.ruleset, rec.rules, rec.started_at))
            rid = db.execute("SELECT id FROM rulesets WHERE hash = ?", (rec.ruleset,)).fetchone()[0]
            scan_id: int = db.execute(  # type: ignore[assignment]  # an INSERT always has a lastrowid
                "INSERT INTO scans (target_id, ruleset_id, started_at, finished_at, refs, blobs_planned, blobs_read, "
                "bytes_scanned, findings, warnings, status, error, state, reported) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (target_id, rid, rec.started_at, rec.finished_at, json.dumps(rec.refs, sort_keys=True),
                 rec.blobs_planned, len(rec.blobs_read), rec.bytes_scanned, len(rec.findings),
                 json.dumps(rec.warnings), rec.status, rec.error, rec.state, rec.reported)).lastrowid
            db.executemany("INSERT OR IGNORE INTO covered (ruleset_id, commit_id) VALUES (?, ?)",
                           ((rid, bytes.fromhex(c)) for c in rec.covered))
            db.executemany("INSERT OR IGNORE INTO commit_adds (ruleset_id, commit_id, oid, path) VALUES (?, ?, ?, ?)",
                           ((rid, bytes.fromhex(c), bytes.fromhex(b), _path_cell(p)) for c, adds in rec.adds.items()
                            for b, p in adds))
            db.executemany("INSERT OR REPLACE INTO scanned_blobs (ruleset_id, oid, findings) VALUES (?, ?, ?)",
                           ((rid, bytes.fromhex(oid), len(rec.blob_findings.get(oid, ())))
                            for oid in (*rec.blobs_read, *rec.messages_read)))
            db.executemany(
                "INSERT OR REPLACE INTO blob_findings (ruleset_id, oid, rule_id, fingerprint, path_suffix, line, col, "
                "offset, encoding, checksum, tags, inline_allowed, description, severity, verify_kind, prefix, "
                "redacted, secret, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                ((rid, bytes.fromhex(oid), s.rule_id, s.fingerprint, s.path_suffix, s.line, s.col, s.offset, s.encoding,
                  s.checksum, json.dumps(list(s.tags)), int(s.inline_allowed), s.description, s.severity,
                  s.verify_kind, s.prefix, s.redacted, s.secret if store_secrets else None, s.source)
                 for oid, found in rec.blob_findings.items() for s in found))
            for f in rec.findings:
                secret = f.get("secret") if store_secrets else None
                db.execute(
                    "INSERT INTO findings (fingerprint, rule_id, description, severity, redacted, secret, first_seen, "
                    "last_seen, verification, verified_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (fingerprint) "
                    "DO UPDATE SET last_seen = excluded.last_seen, "
                    "secret = COALESCE(excluded.secret, findings.secret), "
                    # a decision imported before any audit saw the secret has no description yet
                    "description = excluded.description, severity = excluded.severity, "
                    "redacted = excluded.redacted, "
                    "verification = CASE WHEN excluded.verification = 'not-checked' THEN findings.verification "
                    "ELSE excluded.verification END, "
                    "verified_at = COALESCE(excluded.verified_at, findings.verified_at)",
                    (f["fingerprint"], f["rule_id"], f["description"], f["severity"], f["redacted"], secret,
                     rec.finished_at, rec.finished_at, f["verification"],
                     None if f["verification"] == "not-checked" else stamp()))
                db.execute(
                    "INSERT INTO places (fingerprint, target_id, commit_id, path, line, col, source, author, date, "
                    "at_head, first_scan, last_scan) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                    "last_scan = excluded.last_scan, at_head = excluded.at_head, author = excluded.author, "
                    "date = excluded.date",
                    (f["fingerprint"], target_id, f["commit"] or "", printable(f["path"]), f["line"], f["column"], f["source"],
                     f["author"], f["date"], None if f["at_head"] is None else int(f["at_head"]), scan_id, scan_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return scan_id

    def record_failure(self, target_key: str, kind: str, ruleset: str, rules: int, error: str) -> None:
        """A broken target is remembered (with why) so the next audit's summary can say it failed before."""
        self.merge(ScanRecord(target_key, kind, ruleset, rules, now(), now(), {}, 0, [], {}, 0, [], [], "failed",
                              error), store_secrets=False)

    def update_verification(self, findings: Sequence[dict]) -> None:
        """Verification ran after the merge (once over the whole audit): its statuses go in afterwards."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            at = stamp()
            self.db.executemany("UPDATE findings SET verification = ?, verified_at = ? WHERE fingerprint = ?",
                                ((f["verification"], at, f["fingerprint"]) for f in findings
                                 if f["verification"] != "not-checked"))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # --- reading -------------------------------------------------------------------------------------------

    def statuses(self, fingerprints: Iterable[str]) -> dict[str, tuple[str, str]]:
        """fingerprint -> (shown status, note): the triage decision, or e.g. revoked-but-live when a
        verification after the decision found the credential live (see effective_status)."""
        fps = list(fingerprints)
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(fps), 500):
            part = fps[i:i + 500]
            marks = ",".join("?" * len(part))
            for fp, status, note, verification, verified_at, triaged_at in self.db.execute(
                    f"SELECT fingerprint, status, note, verification, verified_at, triaged_at FROM findings "
                    f"WHERE fingerprint IN ({marks})", part):
                out[fp] = (effective_status(status, verification, verified_at, triaged_at), note)
        return out

    def triage_list(self, status: str | None = None, target: str | None = None) -> list[dict]:
        """Findings with their status, repositories and place count (latest scan of each repository)."""
        sql = ("SELECT f.fingerprint, f.rule_id, f.severity, f.redacted, f.status, f.note, f.last_seen, "
               "f.verification, f.verified_at, f.triaged_at, group_concat(DISTINCT t.key), count(p.fingerprint) "
               "FROM findings f "
               "LEFT JOIN places p ON p.fingerprint = f.fingerprint "
               "AND p.last_scan = (SELECT max(id) FROM scans s WHERE s.target_id = p.target_id AND s.status = 'ok') "
               "LEFT JOIN targets t ON t.id = p.target_id")
        sql += " GROUP BY f.fingerprint"
        rows = []
        for (fp, rule, severity, redacted, decided, note, last, verification, verified_at, triaged_at, targets,
             places) in self.db.execute(sql):
            st = effective_status(decided, verification, verified_at, triaged_at)
            if status and st != status:
                continue
            repos = sorted(targets.split(",")) if targets else []
            if target and not any(target in r for r in repos):
                continue
            rows.append({"fingerprint": fp, "rule_id": rule, "severity": severity, "secret": redacted,
                         "status": st, "note": note, "last_seen": last, "verification": verification,
                         "repositories": repos, "places": places})
        return sorted(rows, key=lambda r: (not gates(r["status"]), r["rule_id"], r["fingerprint"]))

    def triage_set(self, fingerprint: str, status: str, note: str | None, by: str) -> list[str]:
        """Sets the status of the findings whose fingerprint starts with `fingerprint` (the 16 hex characters
        reports print, or all 64); an ambiguous or unknown prefix is an error, never a guess."""
        if status not in STATUSES:
            raise UsageError(f"triage set: unknown status '{status}' (one of: {', '.join(STATUSES)})")
        fp = check_fingerprint(fingerprint)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            found = [r[0] for r in db.execute("SELECT fingerprint FROM findings WHERE fingerprint LIKE ?",
                                              (fp + "%",))]
            if not found:
                raise UsageError(f"triage set: no finding with fingerprint {fingerprint} in {self.path}")
            if len(found) > 1:
                raise UsageError(f"triage set: {fingerprint} matches {len(found)} findings; give more characters")
            old_note = db.execute("SELECT note FROM findings WHERE fingerprint = ?", found).fetchone()[0]
            new_note = old_note if note is None else note
            db.execute("UPDATE findings SET status = ?, note = ?, triaged_at = ? WHERE fingerprint = ?",
                       (status, new_note, stamp(), found[0]))
            db.execute("INSERT INTO triage_log (fingerprint, status, note, at, by) VALUES (?,?,?,?,?)",
                       (found[0], status, new_note, now(), by))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return found

    def current_places(self) -> dict[str, list[dict]]:
        """fingerprint -> its places at the latest successful scan of each repository (a place a later scan
        no longer found, e.g. after a history rewrite, is not current)."""
        latest = "SELECT target_id, max(id) AS scan FROM scans WHERE status = 'ok' GROUP BY target_id"
        out: dict[str, list[dict]] = {}
        for fp, repo, commit, path, line, col, source, author, date, at_head in self.db.execute(
                f"SELECT p.fingerprint, t.key, p.commit_id, p.path, p.line, p.col, p.source, p.author, p.date, "
                f"p.at_head FROM places p JOIN ({latest}) l ON l.target_id = p.target_id AND p.last_scan = l.scan "
                f"JOIN targets t ON t.id = p.target_id"):
            out.setdefault(fp, []).append({
                "repository": repo, "commit": commit or None, "path": path, "line": line, "column": col,
                "source": source, "author": author, "date": date,
                "at_head": None if at_head is None else bool(at_head)})
        return out

    def findings_view(self, *, status: str | None = None, rule: str | None = None, repository: str | None = None,
                      verification: str | None = None, since: datetime | None = None,
                      show_secrets: bool = False) -> list[dict]:
        """One row per secret (fingerprint) across every audited repository, with all its current places and
        when and where it was first committed; live credentials first. The secret itself only with
        show_secrets, and only when an audit stored it (--show-secrets); otherwise its redaction."""
        places = self.current_places()
        rows = []
        for (fp, rule_id, description, severity, redacted, secret, first_seen, last_seen, checked, verified_at,
             decided, note, triaged_at) in self.db.execute(
                "SELECT fingerprint, rule_id, description, severity, redacted, secret, first_seen, last_seen, "
                "verification, verified_at, status, note, triaged_at FROM findings"):
            shown = effective_status(decided, checked, verified_at, triaged_at)
            if (status and shown != status) or (rule and rule_id != rule) or (verification and checked != verification):
                continue
            where = sorted(places.get(fp, []), key=lambda p: (_when(p["date"]) or _FAR, p["repository"], p["path"],
                                                              p["line"]))
            repos = sorted({p["repository"] for p in where})
            if repository and not any(repository in r for r in repos):
                continue
            first = where[0] if where else None
            first_at = _when(first["date"]) if first else None
            if since is not None and (first_at or _when(first_seen) or _FAR) < since:
                continue
            rows.append({
                "fingerprint": fp, "rule_id": rule_id, "description": description, "severity": severity,
                "secret": secret if show_secrets and secret else redacted, "status": shown, "decision": decided,
                "note": note, "triaged_at": triaged_at, "verification": checked, "verified_at": verified_at,
                "first_seen": first_seen, "last_seen": last_seen, "repositories": repos,
                "first_committed": None if first is None else {
                    "date": first["date"], "repository": first["repository"], "commit": first["commit"],
                    "path": first["path"]},
                "places": where})
        return sorted(rows, key=_view_order)

    def triage_import(self, fingerprints: dict[str, str], status: str, note: str, by: str) -> dict[str, int]:
        """Decisions from a baseline (fingerprint -> rule id), in one transaction: an open finding takes
        `status`, one never seen yet is recorded with it (an audit that finds it later keeps the decision),
        and an existing decision is left alone (a baseline must not undo a revocation someone recorded)."""
        if status not in STATUSES or status == "open":
            raise UsageError(f"triage import: --status {status}: give a decision (not open)")
        counts = {"set": 0, "added": 0, "kept": 0}
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            at = stamp()
            for fp, rule_id in sorted(fingerprints.items()):
                row = db.execute("SELECT status FROM findings WHERE fingerprint = ?", (fp,)).fetchone()
                if row is not None and row[0] != "open":
                    counts["kept"] += 1
                    continue
                if row is None:
                    db.execute("INSERT INTO findings (fingerprint, rule_id, description, severity, redacted, "
                               "first_seen, last_seen) VALUES (?, ?, '', '', '…', ?, ?)", (fp, rule_id, now(), now()))
                    counts["added"] += 1
                else:
                    counts["set"] += 1
                db.execute("UPDATE findings SET status = ?, note = ?, triaged_at = ? WHERE fingerprint = ?",
                           (status, note, at, fp))
                db.execute("INSERT INTO triage_log (fingerprint, status, note, at, by) VALUES (?,?,?,?,?)",
                           (fp, status, note, at, by))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return counts

    def triage_history(self, fingerprint: str) -> list[dict]:
        """Every decision about one finding, newest first: status, note, when and by whom."""
        rows = self.db.execute("SELECT status, note, at, by FROM triage_log WHERE fingerprint = ? ORDER BY id DESC",
                               (fingerprint,))
        return [{"status": st, "note": note, "at": at, "by": by} for st, note, at, by in rows]

    def verification_input(self, fingerprint: str) -> dict | None:
        """What re-verifying one finding needs (the secret, its verifier, its rule), when an audit stored the
        secret (--show-secrets); None otherwise."""
        row = self.db.execute(
            "SELECT f.rule_id, f.description, f.severity, coalesce(f.secret, b.secret), b.verify_kind, b.prefix, "
            "b.checksum FROM findings f LEFT JOIN blob_findings b ON b.fingerprint = f.fingerprint "
            "WHERE f.fingerprint = ? ORDER BY b.secret IS NULL LIMIT 1", (fingerprint,)).fetchone()
        if row is None or not row[3]:
            return None
        keys = ("rule_id", "description", "severity", "secret", "verify_kind", "prefix", "checksum")
        return dict(zip(keys, row, strict=True))

    def counts(self) -> dict[str, int]:
        tables = ("targets", "scans", "scanned_blobs", "blob_findings", "findings", "places")
        return {t: int(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


_FAR = datetime.max.replace(tzinfo=timezone.utc)
_LIVE_FIRST = {"live": 0, "unknown": 1, "not-checked": 2, "inactive": 3, "invalid": 4}
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _view_order(row: dict) -> tuple:
    """Live credentials first (a contradicted decision before anything else), then what gates, then by
    severity and by how widely the secret is spread."""
    return (_LIVE_FIRST.get(row["verification"], 2), not row["status"].endswith("-but-live"),
            not gates(row["status"]), _SEVERITY.get(row["severity"], 5), -len(row["repositories"]),
            row["rule_id"], row["fingerprint"])


def _when(text: str | None) -> datetime | None:
    """An ISO date or time as an aware UTC datetime (a bare date is midnight UTC); None when not one."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def triage_user() -> str:
    """Who made a triage decision, for the log: TOKENSCAN_USER (a CI job names itself), else the login."""
    import getpass

    if os.environ.get("TOKENSCAN_USER"):
        return os.environ["TOKENSCAN_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_since(text: str) -> datetime:
    """--since DATE: an ISO date (2026-03-01) or time (2026-03-01T12:00:00+02:00)."""
    value = _when(text.strip())
    if value is None:
        raise UsageError(f"--since {text}: not a date (ISO: 2026-03-01, or 2026-03-01T12:00:00+00:00)")
    return value


def _stored(row: Sequence) -> StoredFinding:
    (rule_id, fp, suffix, line, col, offset, encoding, checksum, tags, inline, description, severity, verify_kind,
     prefix, redacted, secret, source) = row
    return StoredFinding(rule_id, fp, suffix, line, col, offset, encoding, checksum, tuple(json.loads(tags)),
                         bool(inline), description, severity, verify_kind, prefix, redacted, secret, source)
