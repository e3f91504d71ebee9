"""Benchmark: what one request may cost the server — hostile journal imports and editor posts, and the worst
ones still accepted.

    .venv/bin/python bench/import_bounds.py [--only NAME ...]

Each case runs in a process of its own (a fresh temporary SQLite database, ``ticketnet init``, a learner signed
in through the test client) so that its peak memory is its own: the process's resident set after start-up
and at its peak (``resource.getrusage``; Pillow's pixel buffers are not Python objects, so ``tracemalloc``
would miss them — it is reported too, for the Python side), wall and CPU time of the one request, and its
answer. The figures go to docs/benchmarks.md.

Cases:
- ``one-file-many-posts``: a Mahara ZIP of about 500 KB whose 60 posts all attach the same 14 MB image (a
  small JPEG padded with comment segments, compressing 100:1 so that the archive's own checks accept it);
- ``big-png-many-posts``: a 7 KB ZIP whose 20 posts attach one 7000 × 7000 PNG (one colour, 6 KB);
- ``editor-many-photos``: one "Publier" of the editor carrying 60 PNGs of 7000 × 7000;
- ``worst-import-accepted``, ``worst-post-accepted`` and ``worst-post-jpeg``: the costliest import and posts
  the limits accept (as many photos as allowed, each as large as allowed; the post of ten 48-megapixel phone
  photos).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "une phrase de passe pour le banc d'essai"  # noqa: S105  (a throw-away database)
ENTRY = """<entry><title>Article {n}</title><id>portfolio:artefact{n}</id>
<published>2013-09-16T17:05:00+02:00</published><content type="html">&lt;p&gt;Texte {n}&lt;/p&gt;</content>
<rdf:type rdf:resource="leap2:entry"/>{links}</entry>"""
LINK = '<link rel="leap2:has_attachment" href="portfolio:file{k}"/>'
RESOURCE = """<entry><title>{name}</title><id>portfolio:file{k}</id><content type="{mime}" src="files/{name}"/>
<rdf:type rdf:resource="leap2:resource"/><link rel="enclosure" href="files/{name}" type="{mime}"/></entry>"""
FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:leap2="http://terms.leapspecs.org/"><title>Banc d'essai</title>{entries}</feed>"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def padded_jpeg(total: int, seed: int = 7) -> bytes:
    """A valid 64 × 48 JPEG followed, after its start marker, by comment segments up to ``total`` bytes: 1 % of
    random bytes keep its compression near 100:1."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    jpeg = out.getvalue()
    rng = random.Random(seed)
    segments = []
    size = len(jpeg)
    while size < total:
        body = bytearray(65_000)
        for i in range(0, len(body), 100):
            body[i] = rng.randrange(256)
        segments.append(b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + bytes(body))
        size += len(body) + 4
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def png(width: int, height: int) -> bytes:
    """A one-colour palette PNG: a few kilobytes on the wire, width × height × 3 bytes once decoded."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("P", (width, height), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def jpeg(width: int, height: int, seed: int = 3) -> bytes:
    """A photo-like JPEG (noise compresses like a real photo does)."""
    from PIL import Image

    noise = Image.effect_noise((width, height), 60).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=85)
    return out.getvalue()


def mahara_zip(files: dict[str, tuple[bytes, str]], posts: list[list[str]]) -> bytes:
    """``files``: name -> (bytes, mime); ``posts``: for each post, the names of the files it attaches."""
    names = list(files)
    entries = [RESOURCE.format(name=name, k=k, mime=files[name][1]) for k, name in enumerate(names)]
    for n, attached in enumerate(posts):
        links = "".join(LINK.format(k=names.index(name)) for name in attached)
        entries.append(ENTRY.format(n=n, links=links))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leap2a.xml", FEED.format(entries="".join(entries)))
        for name, (data, _mime) in files.items():
            archive.writestr(f"files/{name}", data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def limits() -> dict[str, int]:
    """The limits of the code under test (0 where a limit does not exist)."""
    from importers import apply_journal
    from importers import journal as importer
    from portfolio.journal import photos

    return {name: int(getattr(module, name, 0)) for module, name in (
        (photos, "MAX_PIXELS"), (photos, "MAX_DECODED_PIXELS"), (photos, "MAX_PHOTOS_PER_POST"),
        (photos, "MAX_DECODED_PIXELS_PER_POST"), (importer, "MAX_IMAGES_PER_POST"), (importer, "MAX_IMAGES"),
        (importer, "MAX_IMAGE_BYTES_TOTAL"), (apply_journal, "MAX_IMPORT_DECODED_PIXELS"))}


def smooth_jpeg(width: int, height: int, seed: int = 5) -> bytes:
    """A large photo-like JPEG that stays light (a soft gradient with a little noise)."""
    from PIL import Image

    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 8).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.2).save(out, "JPEG", quality=70)
    return out.getvalue()


def build(case: str) -> tuple[str, dict[str, Any]]:
    """(kind, request) for a case: kind ``import`` or ``post``."""
    found = limits()
    if case == "one-file-many-posts":
        return "import", {"file": mahara_zip({"photo.jpg": (padded_jpeg(14 * 1024 * 1024), "image/jpeg")},
                                             [["photo.jpg"]] * 60)}
    if case == "big-png-many-posts":
        return "import", {"file": mahara_zip({"plan.png": (png(7000, 7000), "image/png")}, [["plan.png"]] * 20)}
    if case == "editor-many-photos":
        return "post", {"photos": [png(7000, 7000)] * 60}
    decoded = found["MAX_DECODED_PIXELS"] or found["MAX_PIXELS"]
    side = int(decoded ** 0.5) - 1  # the largest square PNG accepted
    if case == "worst-import-accepted":
        # As many references as allowed (MAX_IMAGES), spread over posts of MAX_IMAGES_PER_POST, pointing at as many
        # distinct files of the largest size as the decoded-pixel budget allows.
        per_post, references = found["MAX_IMAGES_PER_POST"] or 10, found["MAX_IMAGES"] or 200
        distinct = max(1, (found["MAX_IMPORT_DECODED_PIXELS"] or decoded * 25) // (side * side))
        files = {f"p{k}.png": (png(side, side), "image/png") for k in range(distinct)}
        names = [f"p{k % distinct}.png" for k in range(references)]
        return "import", {"file": mahara_zip(files, [names[i:i + per_post] for i in range(0, references, per_post)])}
    if case == "worst-post-accepted":  # the largest PNGs, as many as the post's decoded-pixel budget allows
        count = min(found["MAX_PHOTOS_PER_POST"] or 10, (found["MAX_DECODED_PIXELS_PER_POST"] or decoded * 10)
                    // (side * side))
        return "post", {"photos": [png(side, side)] * count}
    if case == "worst-post-jpeg":  # ten 48-megapixel phone photos (decoded at a reduced scale)
        return "post", {"photos": [smooth_jpeg(8000, 6000)] * (found["MAX_PHOTOS_PER_POST"] or 10)}
    raise SystemExit(f"unknown case {case}")


def run_case(case: str, payload_file: str) -> dict[str, Any]:
    import pickle

    from portfolio import create_app
    from portfolio.auth import services as accounts
    from portfolio.auth.models import Role
    from portfolio.auth.passwords import hash_password
    from portfolio.bootstrap import initialise
    from portfolio.extensions import db
    from portfolio.journal.models import JournalEntry, Photo
    from portfolio.orgs.models import Organisation, OrgKind

    kind, payload = pickle.loads(Path(payload_file).read_bytes())  # noqa: S301  (written by the parent, below)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench-import-bounds",
                          "RATELIMIT_ENABLED": False,
                          "PASSWORD_HASH_PROFILE": "cheapest"})
        initialise(app)
        with app.app_context():
            epm = Organisation(code="epm-bench", kind=OrgKind.EPM.value, name="EPM", capacity=6)
            db.session.add(epm)
            learner = accounts.create_user(db.session, "bench.learner", first_name="B", last_name="L",
                                           password_hash=hash_password(PASSWORD))
            accounts.add_membership(db.session, learner, epm, Role.BENEFICIARY)
            db.session.commit()
        client = app.test_client()

        def token(page: str) -> str:
            found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).get_data(as_text=True))
            assert found, page
            return found.group(1)

        signed_in = client.post("/login", data={"username": "bench.learner", "password": PASSWORD,
                                                "csrf_token": token("/login")})
        assert signed_in.status_code == 302
        if kind == "import":
            size = len(payload["file"])
            url_path = "/journal/importer"
            data: dict[str, Any] = {"file": (io.BytesIO(payload["file"]), "export-mahara.zip")}
        else:
            size = sum(len(p) for p in payload["photos"])
            url_path = "/journal/nouveau"
            data = {"title": "Mes photos", "body_md": "Des photos", "visibility": "private", "action": "publish",
                    "photos": [(io.BytesIO(p), f"photo{n}.png") for n, p in enumerate(payload["photos"])]}
        data["csrf_token"] = token(url_path)
        before = rss_mb()
        tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        response = client.post(url_path, data=data, content_type="multipart/form-data")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        python_peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
        tracemalloc.stop()
        text = response.get_data(as_text=True)
        refusal = re.search(r'class="error-message"[^>]*>([^<]+)<', text)
        with app.app_context():
            photos = db.session.query(Photo).count()
            entries = db.session.query(JournalEntry).count()
        return {"case": case, "request_kb": round(size / 1024), "status": response.status_code,
                "entries": entries, "photos": photos, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                "rss_before_mb": round(before), "rss_peak_mb": round(rss_mb()),
                "python_peak_mb": round(python_peak, 1),
                "refusal": refusal.group(1).strip()[:160] if refusal else "", "limits": limits()}


CASES = ["one-file-many-posts", "big-png-many-posts", "editor-many-photos", "worst-import-accepted",
         "worst-post-accepted", "worst-post-jpeg"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=CASES)
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)  # a child process runs one case
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)  # another one builds its request
    args = parser.parse_args()
    if args.build:
        import pickle

        Path(args.build[1]).write_bytes(pickle.dumps(build(args.build[0])))
        return
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return
    print(f"{'case':<24} {'KB':>6} {'status':>6} {'entries':>7} {'photos':>6} {'wall s':>7} {'cpu s':>6} "
          f"{'RSS MB':>12}  refusal")
    for case in args.only or CASES:
        # The request is built by a process of its own: on Linux a child inherits its parent's peak memory.
        with tempfile.NamedTemporaryFile(suffix=".pickle") as payload:
            subprocess.run([sys.executable, __file__, "--build", case, payload.name], check=True)  # noqa: S603
            child = subprocess.run([sys.executable, __file__, "--case", case, payload.name],  # noqa: S603
                                   capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                                   check=False)
        if child.returncode:
            print(f"{case:<24} failed: {child.stderr[-800:]}")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{case:<24} {r['request_kb']:>6} {r['status']:>6} {r['entries']:>7} {r['photos']:>6} "
              f"{r['wall_s']:>7} {r['cpu_s']:>6} {r['rss_before_mb']:>5}->{r['rss_peak_mb']:<6}  {r['refusal']}")
    print("limits:", json.dumps(r["limits"]) if args.only or CASES else "")


if __name__ == "__main__":
    main()
