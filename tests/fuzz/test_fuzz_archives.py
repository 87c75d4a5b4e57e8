"""Fuzz: archives. zip, tar (plain, gzip, bzip2, xz), bare gzip/bzip2/xz streams, nested, truncated,
bombs, odd member names (absolute, `..`, not UTF-8, control characters), links, duplicate members. An
archive is read in memory and never extracted: nothing may appear on disk, and a secret in a member that
is still whole is found."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import tempfile
import zipfile

from fuzzkit import PLANTED, SHOWN, run, tree_state
from hypothesis import given
from hypothesis import strategies as st

SECRET_LINE = f"CLOUDFLARE_API_TOKEN={PLANTED}\n".encode()
NAMES = st.one_of(st.sampled_from(["a.env", "/etc/abs.env", "../../up.env", "dir/../x.env", "dup.env", "dup.env",
                                   "\udcff\udcfe.env", "a\x1b[2Jb.env", "", ".", "dir/", "C:\\win.env", "a" * 300]),
                  st.text(min_size=1, max_size=30))
MEMBERS = st.lists(st.tuples(NAMES, st.one_of(st.just(SECRET_LINE), st.binary(max_size=300))), min_size=1, max_size=6)
KINDS = st.sampled_from(["zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "gz", "bz2", "xz"])


def _name_bytes(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("latin-1") if "\udc80" <= max(name or "a") else name


def build(kind: str, members: list[tuple[str, bytes]], links: bool) -> bytes:
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in members:
                z.writestr(zipfile.ZipInfo(_name_bytes(name) or "noname"), data)
        return buf.getvalue()
    if kind in ("gz", "bz2", "xz"):
        data = members[0][1]
        return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    buf = io.BytesIO()
    mode = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[kind]
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as t:
        for name, data in members:
            info = tarfile.TarInfo(name or "noname")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        if links:
            for kind_, target in ((tarfile.SYMTYPE, "/etc/passwd"), (tarfile.LNKTYPE, "a.env"),
                                  (tarfile.SYMTYPE, "../../outside")):
                info = tarfile.TarInfo(f"link{kind_.decode()}")
                info.type, info.linkname = kind_, target
                t.addfile(info)
    return buf.getvalue()


@given(kind=KINDS, members=MEMBERS, links=st.booleans(), nest=st.integers(0, 3),
       cut=st.one_of(st.none(), st.integers(1, 200)))
def test_archives(kind, members, links, nest, cut):
    data = build(kind, members, links)
    for _ in range(nest):  # an archive inside an archive inside...
        data = build("zip", [("inner.bin", data)], False)
    if cut is not None:
        data = data[:max(1, len(data) - cut)]
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "drop.bin"), "wb") as fh:
            fh.write(data)
        state = tree_state(root)
        r = run(["scan", "--jobs", "1", "--no-color", "--archive-depth", "5", root])
        assert tree_state(root) == state  # never extracted next to the input
        single = kind in ("gz", "bz2", "xz")
        whole = [d for _, d in (members[:1] if single else members)]
        if cut is None and SECRET_LINE in whole:
            assert SHOWN in r.output, r.output[-500:]
        if cut is not None:  # damaged: the scan says so, or the damage missed what was read
            assert r.code in (0, 1, 2)


@given(ratio=st.sampled_from([10, 1000, 100_000]), kind=st.sampled_from(["zip", "gz", "tar.gz"]))
def test_bombs_stay_bounded(ratio, kind):
    """A member that inflates far beyond the archive limits is cut and named, and the scan ends."""
    data = build(kind, [("big.txt", b"\0" * (ratio * 1000) + SECRET_LINE)], False)
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "bomb.bin"), "wb") as fh:
            fh.write(data)
        r = run(["scan", "--jobs", "1", "--no-color", root])
        assert r.code in (0, 1)
