import os

import pytest

from scanner.errors import UsageError
from scanner.findings import Warning
from scanner.sources.files import FileReader, walk


def _paths(items):
    return sorted(i.path for i in items)


def test_walk_honours_gitignore_nested_negation_and_exclude(tmp_path):
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!keep.log\n")
    for rel in ["a.py", "a.log", "sub/keep.log", "sub/x.log", "build/out.txt", "vendor/lib.js", ".git/config"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    items, _ = walk([str(tmp_path)], excludes=("vendor/",))
    rel = sorted(os.path.relpath(i.abspath, tmp_path) for i in items)
    assert rel == [".gitignore", "a.py", "sub/.gitignore", "sub/keep.log"]
    items, _ = walk([str(tmp_path)], gitignore=False)
    assert "build/out.txt" in {os.path.relpath(i.abspath, tmp_path) for i in items}


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "link").symlink_to(outside)
    (tree / "file").symlink_to(outside / "secret.txt")
    items, warnings = walk([str(tree)])
    assert items == []
    assert {w.kind for w in warnings} == {"symlink"}


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        walk([str(tmp_path / "nope")])


def test_reader_windows_large_files_with_correct_lines(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"line\n" * 50000 + b"needle\n")
    items, _ = walk([str(p)])
    warnings: list[Warning] = []
    chunks = list(FileReader(max_file_size=70000).read(items[0], warnings))
    assert len(chunks) > 1 and all(len(c.data) <= 70000 + (16 << 10) for c in chunks)
    last = chunks[-1]
    idx = last.data.rfind(b"needle")
    assert last.line_base + last.data.count(b"\n", 0, idx) + 1 == 50001
    assert [w.kind for w in warnings] == ["large"]


def test_reader_skips_binary_and_warns_on_unreadable(tmp_path):
    b = tmp_path / "b.bin"
    b.write_bytes(b"abc\0def")
    u = tmp_path / "u.txt"
    u.write_text("x")
    u.chmod(0)
    items, _ = walk([str(tmp_path)])
    warnings: list[Warning] = []
    reader = FileReader()
    got = [c for i in items for c in reader.read(i, warnings)]
    kinds = sorted(w.kind for w in warnings)
    if os.geteuid() == 0:  # root reads anything
        assert kinds == ["binary"] and len(got) == 1
    else:
        assert kinds == ["binary", "unreadable"] and got == []
    assert len(list(FileReader(include_binary=True).read(items[0], []))) == 1


def test_a_skipped_binary_file_is_judged_on_its_head_alone(tmp_path, monkeypatch):
    """A binary file (a .so, a .pyc) is skipped after its first bytes; reading it whole only to find it is
    not UTF-16 made a tree of binaries cost more than `cat`. A UTF-16 file is still read whole."""
    import scanner.sources.files as files

    (tmp_path / "lib.so").write_bytes(b"\x7fELF\0\0" + os.urandom(2 << 20))
    (tmp_path / "w.ps1").write_bytes("\ufeff$k = 'x'\n".encode("utf-16-le") * 40000)
    read: dict[str, int] = {}

    class Counting:
        def __init__(self, path, mode="r", **kw):
            self._fh = open(path, mode, **kw)  # noqa: SIM115 - closed by __exit__
            self._name = os.path.basename(path)

        def read(self, n=-1):
            data = self._fh.read(n)
            read[self._name] = read.get(self._name, 0) + len(data)
            return data

        def fileno(self):
            return self._fh.fileno()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    monkeypatch.setattr(files, "open", Counting, raising=False)
    items, _ = walk([str(tmp_path)])
    warnings: list[Warning] = []
    chunks = [c for i in items for c in FileReader().read(i, warnings)]
    assert [w.kind for w in warnings] == ["binary"]
    assert read["lib.so"] <= files.BINARY_SNIFF
    assert read["w.ps1"] == (tmp_path / "w.ps1").stat().st_size and chunks[0].encoding == "utf-16"


def test_a_walk_past_its_first_files_leaves_sizes_to_the_reader(tmp_path):
    """Past STAT_FIRST files the walk does not stat; the reader learns a large file's size from the open
    file and still windows it, opens an archive and names a binary file."""
    import io
    import zipfile

    import scanner.sources.files as files

    for i in range(files.STAT_FIRST + 5):
        (tmp_path / f"a{i:04d}.txt").write_text("x\n")
    (tmp_path / "z-large.txt").write_bytes(b"line\n" * 60_000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner.env", "K=v\n")
    (tmp_path / "z-pack.zip").write_bytes(buf.getvalue())
    (tmp_path / "z-prog.bin").write_bytes(b"\0ELF" * 30_000)
    items, _ = walk([str(tmp_path)])
    sizes = [i.size for i in items]
    assert sizes[:files.STAT_FIRST] == [2] * files.STAT_FIRST and set(sizes[files.STAT_FIRST:]) == {files.UNKNOWN_SIZE}
    warnings: list[Warning] = []
    reader = FileReader(max_file_size=100_000)
    chunks = [c for i in items[-3:] for c in reader.read(i, warnings)]
    assert [(w.kind, w.message) for w in warnings] == [("large", "300000 bytes: scanned in windows"),
                                                       ("binary", "binary file skipped (--include-binary scans it)")]
    assert sum(len(c.data) for c in chunks if c.path.endswith("large.txt")) >= 300_000
    assert any(c.path.endswith("z-pack.zip!inner.env") for c in chunks)


def test_include_binary_also_decodes_embedded_assets(tmp_path):
    """--include-binary scans what a binary file or a long binary base64 decoding holds; by default neither."""
    import base64
    import json

    from clirun import tokenscan
    from tokens import cloudflare

    tok = cloudflare("cfut_", 77)
    asset = base64.b64encode(b"\0asm" + b"\0\x01\x02" * 3000 + tok.encode() + b"\0" * 3000).decode()
    (tmp_path / "bundle.js").write_text(f'const wasm = "data:application/wasm;base64,{asset}";\n')
    plain = tokenscan("scan", str(tmp_path), "--format", "json")
    wide = tokenscan("scan", str(tmp_path), "--format", "json", "--include-binary")
    assert plain.returncode == 0 and json.loads(plain.stdout)["findings"] == []
    assert wide.returncode == 1 and [f["rule_id"] for f in json.loads(wide.stdout)["findings"]] == ["cloudflare-user-api-token"]
