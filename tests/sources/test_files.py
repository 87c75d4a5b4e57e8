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
