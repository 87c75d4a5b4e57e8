"""Container images read from files, with no daemon. Three kinds are read: a `docker save` / `podman save`
tarball, an OCI image layout (a directory with `oci-layout` and `index.json`), and `oci-archive:PATH` (a
tarball of a layout).

Every layer is scanned, the lowest first. Each finding's place is
`IMAGE!sha256:<layer digest>/<path in the layer>`. The digest is the one the image stores the layer under:
an OCI descriptor's digest, a `blobs/sha256/...` name, or, for docker's older `<id>/layer.tar` form, the
config's diff id, which is the same thing because those layers are uncompressed. The command that made the
layer (the config's history) goes with each finding.

A secret in a lower layer that a later layer deleted is still reported: it is in the image, and anyone who
pulls the image can extract it. `in_final_image` says whether it is still visible in the final filesystem,
following the OCI whiteout rules (`.wh.NAME`, `.wh..wh..opq`) and files replaced by later layers.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.engine.decoders import kind_of, utf16_text
from scanner.errors import UsageError
from scanner.findings import Finding, Origin, Warning
from scanner.sources import BINARY_SNIFF, Chunk, is_binary
from scanner.sources.archives import SEP, Limits, archive_chunks

OCI_ARCHIVE = "oci-archive:"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_METADATA = 16 << 20  # bytes of manifest.json / index.json / a manifest / a config
_ZSTD = b"\x28\xb5\x2f\xfd"
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


class ImageError(Exception):
    """The file or directory is an image, but a broken one: the reason names what is wrong."""


@dataclass(frozen=True)
class LayerItem:
    """One layer to read: where its bytes sit (a region of a tarball, or a file of a layout) and how reports
    name it. `oid` and `path` are what the audit's blob cache keys and places it by."""

    image: str  # the image as reports name it (the path given, or oci-archive:PATH)
    file: str  # the file holding the layer's bytes
    offset: int
    size: int
    digest: str  # sha256:<hex>, the layer's digest
    index: int  # 0 is the lowest layer
    created_by: str = ""

    @property
    def path(self) -> str:
        return f"{self.image}{SEP}{self.digest}"

    @property
    def oid(self) -> str:
        """The datastore's key (hex, like a git object id): the digest's hex for sha256, else a sha256 of it."""
        algo, _, hexdigest = self.digest.partition(":")
        return hexdigest if algo == "sha256" else hashlib.sha256(self.digest.encode()).hexdigest()


_PLACE = re.compile(r"!([a-z0-9]+:[0-9a-f]{32,})/")


def layer_digest(path: str) -> str | None:
    """The layer digest in a finding's place (`IMAGE!sha256:<hex>/path`)."""
    m = _PLACE.search(path)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Image:
    name: str
    kind: str  # docker-archive | oci-layout | oci-archive
    layers: tuple[LayerItem, ...]  # every distinct layer of every image in the file, lowest first
    configs: tuple[str, ...]  # digests (or names) of the image configs: what an unchanged image is known by
    tags: tuple[str, ...] = ()


def image_kind(arg: str) -> str | None:
    """What an argument is when it is an image: oci-archive (`oci-archive:` prefix), oci-layout (a directory with
    oci-layout and index.json), docker-archive (an uncompressed tar holding manifest.json) or an OCI tarball
    without a docker manifest (oci-archive); None for anything else."""
    if arg.startswith(OCI_ARCHIVE) and not os.path.exists(arg):
        return "oci-archive"
    if os.path.isdir(arg):
        return "oci-layout" if (os.path.isfile(os.path.join(arg, "oci-layout"))
                                and os.path.isfile(os.path.join(arg, "index.json"))) else None
    if not os.path.isfile(arg):
        return None
    try:
        with open(arg, "rb") as fh:
            if kind_of(fh.read(512)) != "tar":
                return None
        with tarfile.open(arg, "r:") as tf:
            names = {m.name.removeprefix("./") for m in _first_members(tf)}
    except (OSError, tarfile.TarError):
        return None
    if "manifest.json" in names:
        return "docker-archive"
    if "index.json" in names and "oci-layout" in names:
        return "oci-archive"
    return None


def _first_members(tf: tarfile.TarFile, limit: int = 10_000) -> Iterator[tarfile.TarInfo]:
    """The top-level metadata files come first or last in a saved image; a tar of 10,000 members that has
    shown neither is not an image (a huge ordinary tar is not listed whole here)."""
    for n, m in enumerate(tf):
        if n >= limit:
            return
        yield m


def open_image(arg: str, name: str | None = None) -> Image:
    """The image's layers, distinct by digest, lowest first; name: what reports call it (default: arg). A
    broken image raises ImageError."""
    kind = image_kind(arg)
    name = name or arg
    path = arg[len(OCI_ARCHIVE):] if arg.startswith(OCI_ARCHIVE) and not os.path.exists(arg) else arg
    try:
        if kind == "oci-layout":
            return _layout(name, _DirStore(path), kind)
        if kind in ("docker-archive", "oci-archive"):
            with _TarStore(path) as store:
                if kind == "docker-archive":
                    return _docker(name, store)
                return _layout(name, store, kind)
    except (OSError, tarfile.TarError) as exc:
        raise ImageError(f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImageError(f"not a valid image: {type(exc).__name__}: {exc}") from None
    raise ImageError("not an image (docker save tarball, OCI layout or oci-archive:)")


class _DirStore:
    """An OCI layout directory: blobs are files."""

    def __init__(self, root: str) -> None:
        self.root = root

    def region(self, name: str) -> tuple[str, int, int]:
        full = os.path.join(self.root, _safe(name))
        if not os.path.isfile(full):
            raise KeyError(f"{name} is missing")
        return full, 0, os.path.getsize(full)

    def read(self, name: str) -> bytes:
        return _read_region(*self.region(name))


class _TarStore:
    """An uncompressed tarball: every member's data is a region of the file, so a layer is read by seeking, never
    by extracting."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.members: dict[str, tarfile.TarInfo] = {}
        with tarfile.open(path, "r:") as tf:
            for m in tf:
                if m.isfile():
                    self.members[posixpath.normpath(m.name.removeprefix("./"))] = m

    def __enter__(self) -> _TarStore:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def region(self, name: str) -> tuple[str, int, int]:
        m = self.members.get(posixpath.normpath(_safe(name)))
        if m is None:
            raise KeyError(f"{name} is missing")
        return self.path, m.offset_data, m.size

    def read(self, name: str) -> bytes:
        return _read_region(*self.region(name))


def _safe(name: str) -> str:
    """A name from the image's own metadata, kept inside the image (no absolute paths, no `..`)."""
    norm = posixpath.normpath(name.lstrip("/"))
    if norm.startswith("..") or norm == ".":
        raise ValueError(f"{name!r} points outside the image")
    return norm


def _read_region(file: str, offset: int, size: int) -> bytes:
    if size > MAX_METADATA:
        raise ValueError(f"metadata of {size} bytes")
    with open(file, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def _blob_name(digest: str) -> str:
    algo, _, hexdigest = digest.partition(":")
    if not algo.isalnum() or not hexdigest.isalnum():
        raise ValueError(f"bad digest {digest!r}")
    return f"blobs/{algo}/{hexdigest}"


def _history(config: dict) -> list[str]:
    """The command of each layer-making history entry, in layer order (empty_layer entries make none)."""
    return [str(h.get("created_by", "")) for h in config.get("history", []) if isinstance(h, dict)
            and not h.get("empty_layer")]


def _docker(name: str, store: _TarStore) -> Image:
    manifest = _json(store.read("manifest.json"))
    if not isinstance(manifest, list):
        raise ValueError("manifest.json is not a list")
    layers: dict[str, LayerItem] = {}
    configs: list[str] = []
    tags: list[str] = []
    for entry in manifest:
        config = _json(store.read(entry["Config"]))
        configs.append(entry["Config"])
        tags.extend(str(t) for t in entry.get("RepoTags") or ())
        commands = _history(config)
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        for i, layer in enumerate(entry["Layers"]):
            parts = posixpath.normpath(layer).split("/")
            if len(parts) == 3 and parts[0] == "blobs":
                digest = f"{parts[1]}:{parts[2]}"
            elif i < len(diff_ids):
                digest = diff_ids[i]
            else:
                raise ValueError(f"layer {layer} has no digest in the config")
            file, offset, size = store.region(layer)
            layers.setdefault(digest, LayerItem(name, file, offset, size, digest, len(layers),
                                                commands[i] if i < len(commands) else ""))
    return Image(name, "docker-archive", tuple(layers.values()), tuple(configs), tuple(tags))


def _layout(name: str, store: _DirStore | _TarStore, kind: str) -> Image:
    index = _json(store.read("index.json"))
    layers: dict[str, LayerItem] = {}
    configs: list[str] = []
    tags: list[str] = []
    todo: list[tuple[dict, str | None]] = [(d, None) for d in index.get("manifests", [])]
    seen = 0
    while todo:
        desc, tag = todo.pop(0)
        seen += 1
        if seen > 1000:
            raise ValueError("more than 1000 manifests")
        tag = (desc.get("annotations") or {}).get("org.opencontainers.image.ref.name") or tag  # an index's tag
        doc = _json(store.read(_blob_name(desc["digest"])))                                   # names its images
        if desc.get("mediaType") in _INDEX_TYPES or doc.get("mediaType") in _INDEX_TYPES or "manifests" in doc:
            todo.extend((d, tag) for d in doc.get("manifests", []))
            continue
        if tag and str(tag) not in tags:
            tags.append(str(tag))
        config = _json(store.read(_blob_name(doc["config"]["digest"])))
        configs.append(doc["config"]["digest"])
        commands = _history(config)
        for i, layer in enumerate(doc.get("layers", [])):
            digest = layer["digest"]
            file, offset, size = store.region(_blob_name(digest))
            layers.setdefault(digest, LayerItem(name, file, offset, size, digest, len(layers),
                                                commands[i] if i < len(commands) else ""))
    return Image(name, kind, tuple(layers.values()), tuple(configs), tuple(tags))


class _Region(io.RawIOBase):
    """A byte range of a file as a file: a layer inside an image tarball."""

    def __init__(self, file: str, offset: int, size: int) -> None:
        self.fh = open(file, "rb")  # noqa: SIM115 - closed with the region
        self.fh.seek(offset)
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.left <= 0:
            return 0
        n = self.fh.readinto(memoryview(b)[:min(len(b), self.left)])
        self.left -= n or 0
        return n or 0

    def close(self) -> None:
        self.fh.close()
        super().close()


def _layer_tar(item: LayerItem) -> tuple[tarfile.TarFile, Any]:
    raw = io.BufferedReader(_Region(item.file, item.offset, item.size), 1 << 20)
    if raw.peek(4)[:4] == _ZSTD:
        raw.close()
        raise ImageError("zstd-compressed layer: Python's tarfile cannot read it, not scanned")
    return tarfile.open(fileobj=raw, mode="r|*"), raw  # gzip, bzip2, xz or plain, streamed


def member_path(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


@dataclass(frozen=True)
class LayerReader:
    """Reads a layer's regular files into chunks named `IMAGE!sha256:<digest>/<path>`. Whiteouts, links and
    devices hold nothing to read. Binary files are skipped unless include_binary; archives inside (jars, wheels)
    are opened like any archive."""

    include_binary: bool = False
    archive_depth: int = 2
    max_member: int = Limits().max_member

    def read(self, item: LayerItem, warnings: list[Warning]) -> Iterator[Chunk]:
        try:
            tf, raw = _layer_tar(item)
        except (OSError, tarfile.TarError, ImageError) as exc:
            warnings.append(Warning("corrupt-archive", f"layer {item.digest}: {exc}", item.path))
            return
        try:
            for m in tf:
                if not m.isfile():
                    continue
                rel = member_path(m.name)
                if posixpath.basename(rel).startswith(WHITEOUT):
                    continue
                where = f"{item.path}/{rel}"
                fh = tf.extractfile(m)
                if fh is None:
                    continue
                head = fh.read(BINARY_SNIFF)
                binary = is_binary(head)
                archive = kind_of(head[:512]) if self.archive_depth else None
                if binary and archive is None and not self.include_binary and utf16_text(head) is None:
                    warnings.append(Warning("binary", "binary file skipped (--include-binary scans it)", where))
                    continue
                if m.size > self.max_member:
                    warnings.append(Warning("archive-limit", f"file of {m.size} bytes in a layer: not scanned", where))
                    continue
                data = head + fh.read()
                yield from self._chunks(data, where, item, warnings, archive)
        except (OSError, tarfile.TarError, EOFError, zlib.error, ValueError) as exc:
            warnings.append(Warning("corrupt-archive", f"layer {item.digest}: cannot read on: {exc}", item.path))
        finally:
            tf.close()
            raw.close()

    def _chunks(self, data: bytes, where: str, item: LayerItem, warnings: list[Warning], archive: str | None
                ) -> Iterator[Chunk]:
        origin = Origin(blob=item.oid, member=where[len(item.path):])
        if archive is not None:
            inner = archive_chunks(data, where, warnings, self.include_binary, "image", origin, self.archive_depth)
            yield from (Chunk(c.data, c.path, c.source, c.offset_base, c.line_base, c.encoding,
                              Origin(blob=item.oid, member=c.path[len(item.path):])) for c in inner)
            return
        if is_binary(data):
            text = utf16_text(data)
            if text is not None:
                yield Chunk(text, where, "image", encoding="utf-16", origin=origin)
                return
            if not self.include_binary:
                warnings.append(Warning("binary", "binary file skipped (--include-binary scans it)", where))
                return
        yield Chunk(data, where, "image", origin=origin)


# --- what the final image still holds ------------------------------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """What one layer does to the layers below it: entries it adds or replaces, paths it whites out, directories
    it makes opaque."""

    entries: frozenset[str]
    whiteouts: frozenset[str]
    opaque: frozenset[str]


def list_layer(item: LayerItem) -> Listing:
    entries, whiteouts, opaque = set(), set(), set()
    tf, raw = _layer_tar(item)
    try:
        for m in tf:
            rel = member_path(m.name)
            base, parent = posixpath.basename(rel), posixpath.dirname(rel)
            if base == OPAQUE:
                opaque.add(parent)
            elif base.startswith(WHITEOUT):
                whiteouts.add(posixpath.join(parent, base[len(WHITEOUT):]))
            elif not m.isdir():
                entries.add(rel)
    finally:
        tf.close()
        raw.close()
    return Listing(frozenset(entries), frozenset(whiteouts), frozenset(opaque))


def _ancestors(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)
    yield ""


def hidden_by(listing: Listing, path: str) -> bool:
    """Whether a layer above hides the file at path from the layers below: it replaces it, whites it out
    (or a directory holding it), or makes a directory holding it opaque."""
    if path in listing.entries or path in listing.whiteouts:
        return True
    return any(a in listing.whiteouts or a in listing.opaque or a in listing.entries for a in _ancestors(path))


def place_in_image(findings: Sequence[Finding], layers: Sequence[LayerItem], warnings: list[Warning]
                   ) -> list[Finding]:
    """Sets each image finding's layer command, and at_head: True where the file is still in the final image,
    False where a later layer deleted or replaced it (None: a layer above could not be listed). Only the
    layers above the lowest one holding a finding are listed."""
    from dataclasses import replace

    by_oid = {layer.oid: layer for layer in layers}
    hits = [f for f in findings if f.blob in by_oid]
    if not hits:
        return list(findings)
    lowest = min(by_oid[f.blob].index for f in hits if f.blob)
    listings: dict[int, Listing | None] = {}
    for layer in layers:
        if layer.index > lowest:
            try:
                listings[layer.index] = list_layer(layer)
            except (OSError, tarfile.TarError, ImageError, EOFError, zlib.error) as exc:
                listings[layer.index] = None
                warnings.append(Warning("corrupt-archive", f"layer {layer.digest}: cannot list its whiteouts: {exc}",
                                        layer.path))
    out = []
    for f in findings:
        held = by_oid.get(f.blob or "")
        if held is None:
            out.append(f)
            continue
        rel = f.path[len(held.path) + 1:].split(SEP, 1)[0]
        above = [listings.get(i) for i in range(held.index + 1, len(layers))]
        final = None if any(a is None for a in above) else not any(hidden_by(a, rel) for a in above if a)
        out.append(replace(f, at_head=final, layer_command=held.created_by))
    return out


def check_image(arg: str, name: str | None = None) -> Image:
    """open_image for a command-line argument: a broken image is a usage error naming it."""
    try:
        return open_image(arg, name)
    except ImageError as exc:
        raise UsageError(f"{name or arg}: {exc}") from None
