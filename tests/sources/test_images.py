"""Container images: `docker save` tarballs (both forms), OCI layouts and oci-archive tarballs, scanned layer by
layer with each finding placed at IMAGE!sha256:<layer>/<path>, the layer's command, and whether the final
image still holds it (whiteouts, opaque directories, replaced files)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from clirun import tokenscan
from images import Layer, docker_save, oci_archive, oci_layout
from tokens import cloudflare, github

from scanner.sources.images import Listing, hidden_by, image_kind, open_image

A, B, C, D = cloudflare("cfut_", 801), cloudflare("cfat_", 802), github("ghp_", 803), cloudflare("cfk_", 804)


def stack() -> list[Layer]:
    """base: two secrets; then the app layer deletes one (whiteout) and replaces a file; then a layer makes
    /etc/app opaque and adds a third secret."""
    return [
        Layer({"app/.env": f"CF_API_TOKEN={A}\n", "etc/app/conf.ini": f"token = {B}\n",
               "srv/keep.txt": f"gh = {C}\n", "bin/tool": b"\x7fELF\x00\x00binary"},
              created_by="/bin/sh -c #(nop) ADD file:abc in /"),
        Layer({"srv/keep.txt": "rotated\n", "opt/new.txt": "nothing\n"}, whiteouts=("app/.env",),
              created_by="RUN rm /app/.env && echo rotated > /srv/keep.txt"),
        Layer({"etc/app/other.ini": f"key = {D}\n"}, opaque=("etc/app",), created_by="COPY other.ini /etc/app/"),
    ]


def scan(target: str, *extra: str) -> tuple[int, dict]:
    proc = tokenscan("scan", target, "--format", "json", *extra)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}


def placed(doc: dict) -> dict[str, tuple]:
    """secret's fingerprint prefix -> (path, layer digest, created_by, in final image)"""
    return {f["path"]: (f["layer"]["digest"], f["layer"]["created_by"], f["layer"]["in_final_image"])
            for f in doc["findings"]}


def expect(image: str, digests: list[str]) -> dict[str, tuple]:
    base, app, top = digests
    return {
        f"{image}!{base}/app/.env": (base, "/bin/sh -c #(nop) ADD file:abc in /", False),
        f"{image}!{base}/etc/app/conf.ini": (base, "/bin/sh -c #(nop) ADD file:abc in /", False),
        f"{image}!{base}/srv/keep.txt": (base, "/bin/sh -c #(nop) ADD file:abc in /", False),
        f"{image}!{top}/etc/app/other.ini": (top, "COPY other.ini /etc/app/", True),
    }


@pytest.mark.parametrize("legacy", [True, False], ids=["docker-legacy", "docker-oci"])
def test_docker_save_tarball(tmp_path, legacy):
    image = tmp_path / "app.tar"
    digests = docker_save(image, stack(), legacy=legacy)
    assert image_kind(str(image)) == "docker-archive"
    code, doc = scan(str(image))
    assert code == 1
    assert placed(doc) == expect(str(image), digests)


def test_oci_layout_with_gzip_layers_and_a_nested_index(tmp_path):
    layout = tmp_path / "layout"
    digests = oci_layout(layout, stack())
    assert image_kind(str(layout)) == "oci-layout"
    code, doc = scan(str(layout))
    assert code == 1 and placed(doc) == expect(str(layout), digests)
    archive = tmp_path / "app.oci.tar"
    oci_archive(archive, layout)
    code, doc = scan(f"oci-archive:{archive}")
    assert code == 1 and placed(doc) == expect(f"oci-archive:{archive}", digests)
    # a plain tar of a layout (no docker manifest) is known by its own shape too
    code, doc = scan(str(archive))
    assert placed(doc) == expect(str(archive), digests)


def test_a_secret_still_in_the_final_image_and_the_text_report(tmp_path):
    image = tmp_path / "app.tar"
    docker_save(image, [Layer({"app/settings.py": f"TOKEN = '{A}'\n"}, created_by="COPY . /app")])
    proc = tokenscan("scan", str(image))
    assert proc.returncode == 1
    assert "in the final image" in proc.stdout and "created by: COPY . /app" in proc.stdout
    assert A not in proc.stdout  # redacted by default


def test_jars_inside_layers_are_opened(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("application.properties", f"cloudflare.token={A}\n")
    image = tmp_path / "java.tar"
    [digest] = docker_save(image, [Layer({"app/lib/service.jar": buf.getvalue()}, created_by="COPY target/*.jar")])
    _, doc = scan(str(image))
    assert list(placed(doc)) == [f"{image}!{digest}/app/lib/service.jar!application.properties"]


def test_whiteout_rules():
    above = Listing(frozenset({"srv/keep.txt"}), frozenset({"app/.env", "var/cache"}), frozenset({"etc/app"}))
    assert hidden_by(above, "app/.env") and hidden_by(above, "var/cache/x/y") and hidden_by(above, "etc/app/a.ini")
    assert hidden_by(above, "srv/keep.txt")
    assert not hidden_by(above, "app/.envrc") and not hidden_by(above, "etc/application.ini")


def test_broken_images_are_named_and_a_zstd_layer_is_incomplete(tmp_path):
    image = tmp_path / "broken.tar"
    docker_save(image, stack())
    import tarfile

    stripped = tmp_path / "stripped.tar"
    with tarfile.open(image) as src, tarfile.open(stripped, "w") as dst:
        for m in src:
            if not m.name.endswith("layer.tar") or m.name.startswith(sorted(x.name for x in src.getmembers()
                                                                           if x.name.endswith("layer.tar"))[0]):
                dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    proc = tokenscan("scan", str(stripped))
    assert proc.returncode == 2 and "stripped.tar" in proc.stderr and "missing" in proc.stderr
    proc = tokenscan("scan", f"oci-archive:{tmp_path / 'nope.tar'}")
    assert proc.returncode == 2 and "nope.tar" in proc.stderr

    layout = tmp_path / "zstd"
    digests = oci_layout(layout, stack()[:1], compress=False)
    blob = layout / "blobs" / "sha256" / digests[0][7:]
    blob.write_bytes(b"\x28\xb5\x2f\xfd" + blob.read_bytes()[4:])
    code, doc = scan(str(layout), "--fail-on-incomplete")
    assert code == 1 and any("zstd" in w["message"] for w in doc["scan"]["incomplete"])


def test_open_image_lists_distinct_layers_lowest_first(tmp_path):
    layout = tmp_path / "layout"
    digests = oci_layout(layout, stack())
    img = open_image(str(layout))
    assert [layer.digest for layer in img.layers] == digests and img.tags == ("latest",)
    assert [layer.index for layer in img.layers] == [0, 1, 2]
    assert img.layers[1].created_by.startswith("RUN rm")


def test_files_and_images_in_one_scan(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "deploy.sh").write_text(f"export GH={C}\n")
    image = tmp_path / "app.tar"
    docker_save(image, stack()[:1])
    _, doc = scan(str(tmp_path / "src"))
    assert len(doc["findings"]) == 1
    proc = tokenscan("scan", str(tmp_path / "src"), str(image), "--format", "json")
    paths = sorted(f["path"] for f in json.loads(proc.stdout)["findings"])
    assert len(paths) == 4 and paths[-1].endswith("deploy.sh")


def test_an_image_inside_a_scanned_folder_is_still_scanned_as_an_archive(tmp_path: Path):
    (tmp_path / "dist").mkdir()
    docker_save(tmp_path / "dist" / "app.tar", stack()[:1])
    _, doc = scan(str(tmp_path / "dist"))
    assert {f["path"].rsplit("!", 1)[-1] for f in doc["findings"]} == {"app/.env", "etc/app/conf.ini", "srv/keep.txt"}


# --- docker://REF through skopeo ------------------------------------------------------------------------------

FAKE_SKOPEO = """#!{python}
# A stand-in for skopeo on PATH (the real one is not installed here): it answers `skopeo copy --quiet
# docker://REF oci:DIR:TAG` by writing a real OCI layout of the test's layers, and records its command line.
import json, sys
sys.path.insert(0, {tests!r})
from images import Layer, oci_layout
from pathlib import Path
args = sys.argv[1:]
Path({log!r}).open("a").write(json.dumps(args) + "\\n")
if "docker://registry.example/denied:1" in args:
    sys.stderr.write("time=x level=fatal msg=\\"initializing source docker://user:hunter2@registry.example: unauthorized\\"\\n")
    sys.exit(1)
dest = args[-1].removeprefix("oci:").rsplit(":", 1)[0]
oci_layout(Path(dest), [Layer({{"app/.env": "T={secret}\\n"}}, created_by="COPY .env /app/")])
"""


@pytest.fixture()
def skopeo(tmp_path):
    import stat
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "skopeo.log"
    script = bin_dir / "skopeo"
    script.write_text(FAKE_SKOPEO.format(python=sys.executable, tests=str(Path(__file__).parent.parent), log=str(log),
                                         secret=A))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    import os

    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def test_a_registry_reference_is_pulled_with_skopeo_and_scanned(tmp_path, skopeo):
    env, log = skopeo
    proc = tokenscan("scan", "docker://registry.example/app:1", "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    [f] = json.loads(proc.stdout)["findings"]
    assert f["path"].startswith("docker://registry.example/app:1!sha256:") and f["path"].endswith("/app/.env")
    assert f["layer"]["created_by"] == "COPY .env /app/"
    [args] = [json.loads(line) for line in log.read_text().splitlines()]
    assert args[:3] == ["copy", "--quiet", "docker://registry.example/app:1"] and args[3].startswith("oci:")
    pulled = Path(args[3][4:].rsplit(":", 1)[0])
    assert not pulled.exists()  # the pulled layout lives as long as the scan


def test_a_registry_reference_without_skopeo_or_refused_is_exit_2(tmp_path, skopeo):
    env, _ = skopeo
    proc = tokenscan("scan", "docker://registry.example/denied:1", env=env)
    assert proc.returncode == 2 and "unauthorized" in proc.stderr and "hunter2" not in proc.stderr
    proc = tokenscan("scan", "docker://registry.example/app:1", env={"PATH": str(tmp_path / "no-programs")})
    assert proc.returncode == 2 and "needs skopeo on PATH" in proc.stderr
    proc = tokenscan("scan", "docker://--output=/etc/x", env=env)
    assert proc.returncode == 2 and "not an image reference" in proc.stderr


def test_an_audit_pulls_registry_images_into_its_cache(tmp_path, skopeo):
    env, log = skopeo
    proc = tokenscan("audit", "docker://registry.example/app:1", "--datastore", str(tmp_path / "ds.db"),
                     "--cache-dir", str(tmp_path / "cache"), "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    [r] = doc["repositories"]
    assert r["target"] == "docker://registry.example/app:1" and r["action"] == "pulled" and r["kind"] == "image"
    assert (tmp_path / "cache" / "images").is_dir()
