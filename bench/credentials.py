"""Benchmark: signing and checking Open Badges credentials, and the status list.

    .venv/bin/python bench/credentials.py [--repeat 50]

Builds a throw-away SQLite database with the demo, then times, for the demo's domain badge (the largest:
alignments and evidence): signing it (two RDFC-1.0 canonicalizations and one Ed25519 signature), the pure check
of 1EdTech's simple.json vector, the site's check of the badge (its key from the database, its issuer's status
list signed and read), and serving a status list. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import create_app  # noqa: E402
from portfolio.bootstrap import initialise  # noqa: E402
from portfolio.credentials import proofs, services, verify  # noqa: E402
from portfolio.credentials.models import Credential  # noqa: E402
from portfolio.db import utcnow  # noqa: E402
from portfolio.demo import create_demo  # noqa: E402
from portfolio.extensions import db  # noqa: E402

VECTOR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "openbadges" / "vectors-1edtech-ob30"


def timed(label: str, repeat: int, work: object) -> None:
    assert callable(work)
    work()
    start = time.perf_counter()
    for _ in range(repeat):
        work()
    print(f"{label}: {(time.perf_counter() - start) / repeat * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "INSTANCE_PATH": folder,
                          "UPLOAD_DIR": f"{folder}/uploads"})
        initialise(app)
        with app.app_context():
            create_demo(db.session, app.config["SECRET_KEY"], "bench-password-123")
            db.session.commit()
            from sqlalchemy.orm import joinedload

            badge = db.session.scalar(sa.select(Credential).where(Credential.kind == "domain")
                                      .options(joinedload(Credential.organisation)))
            assert badge is not None and badge.document is not None
            site = services.Site.current()
            organisation = db.session.get(services.Organisation, badge.organisation_id)
            current = services.current_key(db.session, organisation.id)
            key = services.keystore.private_keys(app.config)[current.public_key]
            unsigned = {k: v for k, v in badge.document.items() if k != "proof"}
            text = json.dumps(badge.document)
            vector = (VECTOR / "simple.json").read_text()
            print(f"badge: {len(text)} bytes of JSON, {len(services.baked(badge, 'png')[0])} bytes as a baked PNG")
            timed("sign the domain badge", args.repeat,
                  lambda: proofs.sign(unsigned, key, badge.document["proof"][0]["verificationMethod"]))
            timed("check 1EdTech's simple.json (pure)", args.repeat, lambda: verify.check(vector))
            timed("check the badge on the site (key and status list included)", args.repeat,
                  lambda: services.check(db.session, text, utcnow()))
            timed("sign and serve the issuer's status list", args.repeat,
                  lambda: services.status_list_credential(db.session, site, organisation, utcnow()))


if __name__ == "__main__":
    main()
