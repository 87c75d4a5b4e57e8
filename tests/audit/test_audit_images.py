"""`tokenscan audit IMAGE...`: container images in the datastore, layers deduplicated by digest (a second image
on the same base reads only its own layers), an unchanged image not read again, a broken one named."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import tokenscan
from images import Layer, docker_save, oci_layout
from tokens import cloudflare, github

BASE_SECRET, APP_SECRET, WORKER_SECRET = cloudflare("cfut_", 901), github("ghp_", 902), cloudflare("cfat_", 903)


def base() -> Layer:
    return Layer({"etc/base.conf": f"token={BASE_SECRET}\n", "usr/share/doc/readme": "hello\n"},
                 created_by="/bin/sh -c #(nop) ADD file:base in /")


def images(root: Path) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    app = docker_save(root / "app.tar", [base(), Layer({"app/.env": f"GH={APP_SECRET}\n"}, created_by="COPY .env /app/"),
                                         Layer({}, whiteouts=("app/.env",), created_by="RUN rm /app/.env")])
    worker = oci_layout(root / "worker", [base(), Layer({"srv/w.ini": f"k={WORKER_SECRET}\n"},
                                                        created_by="COPY w.ini /srv/")], compress=False)
    return {"app": app, "worker": worker}


def audit(tmp_path: Path, *targets: str, extra: tuple = ()) -> tuple[int, dict, str]:
    proc = tokenscan("audit", *targets, "--datastore", str(tmp_path / "ds.db"), "--format", "json", *extra)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_images_share_their_base_layers_across_audits(tmp_path):
    root = tmp_path / "img"
    digests = images(root)
    app, worker = str((root / "app.tar").resolve()), str((root / "worker").resolve())
    code, doc, _ = audit(tmp_path, app)
    assert code == 1
    [r] = doc["repositories"]
    assert r["kind"] == "image" and r["blobs_read"] == 3 and r["blobs_skipped"] == 0
    # the worker image shares the base layer: only its own layer is read, the base's finding comes back
    code, doc, _ = audit(tmp_path, app, worker)
    by = {r["target"]: r for r in doc["repositories"]}
    assert by[app]["unchanged"] and by[app]["blobs_read"] == 0
    assert by[worker]["blobs_read"] == 1 and by[worker]["blobs_skipped"] == 1
    places = sorted((p["repository"], p["path"], p["at_head"]) for f in doc["findings"] for p in f["places"])
    b, a, _ = digests["app"]
    wb, ww = digests["worker"]
    assert wb == b  # the same layer bytes, the same digest
    assert places == sorted([
        (app, f"{app}!{b}/etc/base.conf", True), (app, f"{app}!{a}/app/.env", False),
        (worker, f"{worker}!{b}/etc/base.conf", True), (worker, f"{worker}!{ww}/srv/w.ini", True)])
    base_finding = next(f for f in doc["findings"] if len(f["places"]) == 2)
    assert base_finding["rule_id"].startswith("cloudflare")
    assert BASE_SECRET not in json.dumps(doc)


def test_an_image_changed_in_place_is_read_again_but_only_its_new_layers(tmp_path):
    root = tmp_path / "img"
    images(root)
    app = str((root / "app.tar").resolve())
    audit(tmp_path, app)
    docker_save(root / "app.tar", [base(), Layer({"app/x.txt": f"k={WORKER_SECRET}\n"}, created_by="COPY x /app/")])
    code, doc, _ = audit(tmp_path, app)
    [r] = doc["repositories"]
    assert not r["unchanged"] and r["blobs_read"] == 1 and r["blobs_skipped"] == 1
    assert sorted(p["path"].rsplit("/", 1)[-1] for f in doc["findings"] for p in f["places"]) == ["base.conf", "x.txt"]


def test_a_broken_image_is_a_failed_target_and_the_rest_is_audited(tmp_path):
    root = tmp_path / "img"
    images(root)
    (root / "worker" / "index.json").write_text("{not json")
    code, doc, err = audit(tmp_path, str(root / "app.tar"), str(root / "worker"))
    assert code == 1  # findings in the good image fail first; the broken one is named
    failed = [r for r in doc["repositories"] if r["status"] == "failed"]
    assert len(failed) == 1 and "not a valid image" in failed[0]["error"]
    code, doc, err = audit(tmp_path, str(root / "worker"))
    assert code == 2 and "could not be scanned" in err


def test_images_on_a_dask_cluster(tmp_path):
    root = tmp_path / "img"
    images(root)
    code, doc, _ = audit(tmp_path, str(root / "app.tar"), str(root / "worker"), extra=("--dask-local", "1"))
    assert code == 1 and doc["summary"]["places"] == 4 and doc["summary"]["failed"] == 0
