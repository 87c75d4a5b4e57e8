"""Archives are opened and their members scanned; hostile or broken ones are warnings, never a crash."""

import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile

from tokens import cloudflare

from scanner.pipeline.run import ScanOptions, scan_paths


def _zip(members: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, **kw) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_members_of_every_common_archive_are_scanned(tmp_path):
    kinds = ["zip", "jar", "whl", "docx", "tar", "tgz", "gz", "nested", "tbz", "txz", "xz"]
    toks = {k: cloudflare("cfut_", i) for i, k in enumerate(kinds)}

    def line(k):
        return f"CLOUDFLARE_API_TOKEN={toks[k]}\n".encode()

    (tmp_path / "a.zip").write_bytes(_zip({"conf/app.env": line("zip")}))
    (tmp_path / "lib.jar").write_bytes(_zip({"META-INF/x.properties": line("jar")}))
    (tmp_path / "p-1.0-py3-none-any.whl").write_bytes(_zip({"p/settings.py": line("whl")}))
    (tmp_path / "notes.docx").write_bytes(_zip({"word/document.xml": b"<w:t>" + line("docx") + b"</w:t>"}))
    (tmp_path / "b.tar").write_bytes(_tar({"etc/b.env": line("tar")}))
    (tmp_path / "c.tar.gz").write_bytes(_tar({"etc/c.env": line("tgz")}, "w:gz"))
    (tmp_path / "d.env.gz").write_bytes(gzip.compress(line("gz")))
    (tmp_path / "e.tar.bz2").write_bytes(_tar({"e.env": line("tbz")}, "w:bz2"))
    (tmp_path / "f.tar.xz").write_bytes(_tar({"f.env": line("txz")}, "w:xz"))
    (tmp_path / "g.env.xz").write_bytes(lzma.compress(line("xz")))
    (tmp_path / "outer.zip").write_bytes(_zip({"inner.jar": _zip({"deep.env": line("nested")})}))
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    by_secret = {f.secret: f.path for f in rep.findings}
    assert set(by_secret) == set(toks.values())
    assert by_secret[toks["nested"]].endswith("outer.zip!inner.jar!deep.env")
    assert by_secret[toks["tgz"]].endswith("c.tar.gz!etc/c.env")
    assert by_secret[toks["gz"]].endswith("d.env.gz!d.env")
    rep = scan_paths([str(tmp_path)], ScanOptions(jobs=1, archive_depth=0))
    assert rep.findings == []


def test_broken_and_hostile_archives_are_warnings(tmp_path):
    good = _zip({"a.env": f"CF_API_TOKEN={cloudflare('cfut_', 50)}\n".encode()})
    (tmp_path / "truncated.zip").write_bytes(good[: len(good) // 2])
    (tmp_path / "bomb.zip").write_bytes(_zip({"zeros.txt": b"0" * (80 << 20)}))
    deep = b"CF_API_TOKEN=x\n"
    for i in range(6):
        deep = _zip({f"level{i}.zip" if i else "a.env": deep})
    (tmp_path / "deep.zip").write_bytes(deep)
    (tmp_path / "ok.zip").write_bytes(good)
    res = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    body = json.loads(res.stdout)
    kinds = {(w["kind"], os.path.basename(w["path"]).split("!")[0]) for w in body["scan"]["warnings"]}
    assert ("corrupt-archive", "truncated.zip") in kinds
    assert ("archive-limit", "bomb.zip") in kinds
    assert ("archive-limit", "deep.zip") in kinds
    assert [os.path.basename(f["path"]) for f in body["findings"]] == ["ok.zip!a.env"]


def test_archives_and_binary_blobs_in_history(tmp_path):
    from gitrepo import Repo

    from scanner.pipeline.run import history_scan

    tok = cloudflare("cfut_", 70)
    r = Repo(tmp_path / "repo")
    (r.path / "lib").mkdir(parents=True)
    (r.path / "lib" / "app.jar").write_bytes(_zip({"conf/app.properties": f"cf.api.token={tok}\n".encode()}))
    (r.path / "logo.bin").write_bytes(b"\0\1\2binary")
    r.commit("vendor a jar")
    rep = history_scan(str(r.path), ScanOptions(jobs=1))
    (f,) = rep.findings
    assert f.path == "lib/app.jar!conf/app.properties" and f.commit and f.at_head is True
    assert rep.skipped == {"binary": 1}
