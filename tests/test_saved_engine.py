"""The shipped rules' engine kept in the user's cache (scanner/engine/saved.py): loaded, it finds what a
freshly built one finds; anything wrong with the entry, or a change to what it is made of, means building."""

import os

import pytest
from plant import plant_tree

from scanner.engine import saved
from scanner.engine.matcher import Engine
from scanner.engine.prefilter import HYPERSCAN_AVAILABLE
from scanner.rules.loader import load_rules

PATHS = [False] + ([True] if HYPERSCAN_AVAILABLE else [])


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tokenscan"


def _matches(engine, files):
    return [(f.name, m.rule.id, m.start, m.end, m.checksum, m.secret) for f in files for m in engine.scan(f.read_bytes())]


def _entries(cache):
    return sorted(p.name for p in cache.glob("engine-*.pickle")) if cache.exists() else []


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_loaded_engine_finds_what_a_built_one_does(cache, tmp_path, monkeypatch, accelerated):
    plant_tree(tmp_path / "tree")
    files = sorted(p for p in (tmp_path / "tree").rglob("*") if p.is_file())
    fresh = _matches(Engine(load_rules(), accelerated, 2), files)
    assert len(fresh) >= 10
    rules, first = saved.shipped_engine(accelerated, 2)
    assert len(_entries(cache)) == 1
    built = []
    monkeypatch.setattr(saved, "load_rules", lambda: built.append(1) or load_rules())
    rules, loaded = saved.shipped_engine(accelerated, 2)
    assert built == []  # it came from the cache
    assert loaded.rules is rules and [r.id for r in rules] == [r.id for r in load_rules()]
    assert _matches(loaded, files) == _matches(first, files) == fresh


def test_options_and_sources_are_part_of_the_key(cache, tmp_path, monkeypatch):
    saved.shipped_engine(False, 2)
    saved.shipped_engine(False, 0)
    assert len(_entries(cache)) == 2
    src = tmp_path / "src"
    src.mkdir()
    (src / "mod.py").write_text("x = 1\n")
    real = saved._folders
    monkeypatch.setattr(saved, "_folders", lambda: [*real(), str(src)])
    saved.shipped_engine(False, 2)
    assert len(_entries(cache)) == 3
    (src / "mod.py").write_text("x = 22\n")  # an edited module: another size (and time)
    saved.shipped_engine(False, 2)
    assert len(_entries(cache)) == 4


def test_a_damaged_entry_means_building(cache, tmp_path):
    plant_tree(tmp_path / "tree")
    files = sorted(p for p in (tmp_path / "tree").rglob("*") if p.is_file())
    _, engine = saved.shipped_engine(False, 2)
    expected = _matches(engine, files)
    (entry,) = cache.glob("engine-*.pickle")
    for damage in (b"", b"not a pickle", entry.read_bytes()[:1000]):
        entry.write_bytes(damage)
        _, again = saved.shipped_engine(False, 2)
        assert _matches(again, files) == expected
    assert entry.stat().st_size > 1000  # written again, whole


def test_no_cache_folder_still_builds(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    rules, engine = saved.shipped_engine(False, 2)
    assert engine.rules is rules and rules
    assert not os.path.isdir(blocked)
