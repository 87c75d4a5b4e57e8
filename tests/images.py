"""Real container images for tests, written as `docker save` writes them (legacy `<id>/layer.tar` and the OCI-style
`blobs/sha256/` form of docker 25+), as OCI image layouts (gzip layers, an image index) and as oci-archive
tarballs. Layers are real tar files with whiteouts; configs carry rootfs.diff_ids and history (with
empty_layer entries, as ENV and CMD make)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Layer:
    files: dict = field(default_factory=dict)  # path -> bytes | str
    whiteouts: tuple = ()  # paths deleted from the layers below (`.wh.NAME`)
    opaque: tuple = ()  # directories whose lower contents are hidden (`.wh..wh..opq`)
    created_by: str = ""
    symlinks: dict = field(default_factory=dict)  # path -> target

    def tar(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
            dirs = set()
            names = [*self.files, *self.whiteouts, *(f"{d}/x" for d in self.opaque), *self.symlinks]
            for name in names:
                parts = name.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    dirs.add("/".join(parts[:i]))
            for d in sorted(dirs):
                info = tarfile.TarInfo(d)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
                tf.addfile(info)

            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
                tf.addfile(info, io.BytesIO(data))

            for d in self.opaque:
                add(f"{d}/.wh..wh..opq", b"")
            for w in self.whiteouts:
                head, _, base = w.rpartition("/")
                add(f"{head}/.wh.{base}" if head else f".wh.{base}", b"")
            for name, data in self.files.items():
                add(name, data.encode() if isinstance(data, str) else data)
            for name, target in self.symlinks.items():
                info = tarfile.TarInfo(name)
                info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, 1_700_000_000
                tf.addfile(info)
        return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config(layers: list[Layer], tars: list[bytes]) -> bytes:
    history = []
    for layer in layers:
        history.append({"created": "2026-01-01T00:00:00Z", "created_by": layer.created_by})
        history.append({"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop)  ENV X=1",
                        "empty_layer": True})
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["X=1"]},
                       "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in tars]},
                       "history": history}).encode()


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
    tf.addfile(info, io.BytesIO(data))


def docker_save(path: Path, layers: list[Layer], tag: str = "app:latest", legacy: bool = True) -> list[str]:
    """A `docker save` tarball; returns each layer's digest as tokenscan names it (the stored blob's)."""
    tars = [layer.tar() for layer in layers]
    cfg = config(layers, tars)
    with tarfile.open(path, "w") as tf:
        if legacy:
            names = []
            for i, t in enumerate(tars):
                lid = hashlib.sha256(f"layer{i}{sha(t)}".encode()).hexdigest()
                _add(tf, f"{lid}/VERSION", b"1.0")
                _add(tf, f"{lid}/layer.tar", t)
                names.append(f"{lid}/layer.tar")
            cfg_name = sha(cfg)[7:] + ".json"
        else:
            names = [f"blobs/sha256/{sha(t)[7:]}" for t in tars]
            for name, t in zip(names, tars, strict=True):
                _add(tf, name, t)
            cfg_name = f"blobs/sha256/{sha(cfg)[7:]}"
            _add(tf, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                              "digest": sha(cfg), "size": len(cfg)},
                                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                               "digest": sha(t), "size": len(t)} for t in tars]}).encode()
            _add(tf, f"blobs/sha256/{sha(manifest)[7:]}", manifest)
            _add(tf, "index.json", json.dumps({"schemaVersion": 2, "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
                 "size": len(manifest)}]}).encode())
        _add(tf, cfg_name, cfg)
        _add(tf, "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]).encode())
    return [sha(t) for t in tars]


def oci_layout(root: Path, layers: list[Layer], tag: str = "latest", nested_index: bool = True,
               compress: bool = True) -> list[str]:
    """An OCI image layout directory (gzip layers, an index pointing at an image index pointing at the
    manifest when nested_index); returns each layer's digest (of the stored, compressed blob)."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = sha(data)
        (blobs / digest[7:]).write_bytes(data)
        return digest

    tars = [layer.tar() for layer in layers]
    stored = [gzip.compress(t, mtime=0) if compress else t for t in tars]
    digests = [put(b) for b in stored]
    cfg = config(layers, tars)
    media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg),
                                      "size": len(cfg)},
                           "layers": [{"mediaType": media, "digest": d, "size": len(b)}
                                      for d, b in zip(digests, stored, strict=True)]}).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(manifest),
            "size": len(manifest), "platform": {"architecture": "amd64", "os": "linux"}}
    if nested_index:
        inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": [desc]}).encode()
        desc = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(inner), "size": len(inner)}
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return digests


def oci_archive(path: Path, layout: Path) -> None:
    """A tarball of an OCI layout (what `skopeo copy ... oci-archive:` and `podman save --format oci-archive`
    write)."""
    with tarfile.open(path, "w") as tf:
        for p in sorted(layout.rglob("*")):
            if p.is_file():
                _add(tf, str(p.relative_to(layout)), p.read_bytes())
