#!/usr/bin/env python3
"""Contract tests: schemathesis against a real peerpath serving the demo data.

Starts `peerpath serve` on a fresh SQLite database loaded by `peerpath seed-demo`, signs in as
a programme manager and as a peer worker, finds real records for the path parameters (so that
generated requests reach objects, not only 404s), and runs schemathesis with every check as
each of them. Exits non-zero on any failure or error.

    python3 tests/contract/run.py PEERPATH_BINARY SCHEMATHESIS_BINARY [MAX_EXAMPLES]

Only the standard library; schemathesis is installed into a virtual environment by `.ci/run`.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOMAIN = "demo.peerpath.invalid"
PASSWORD = "contract-tests-demo-password"
# Each role's own run; the manager's targets are other people than the worker signed in.
ROLES = [
    ("programme-manager", f"priya.manager@{DOMAIN}"),
    ("peer-worker", f"danny.kowalski@{DOMAIN}"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def items(base, token, path):
    status, body = call(base, "GET", path, token)
    return body.get("items", []) if status == 200 and isinstance(body, dict) else []


def first_id(rows, **want):
    for row in rows:
        if all(str(row.get(k, "")).startswith(v) for k, v in want.items()):
            return row.get("id")
    return None


def targets(base, token, me):
    """Path parameters, by operation path, that name real records this role may reach."""
    workers = items(base, token, "/api/v1/workers?limit=200")
    # A manager acts on Sam; a worker on their own profile.
    worker = first_id(workers, name="Sam") or first_id(workers) or me.get("worker_id")
    if worker is None:
        status, body = call(base, "GET", "/api/v1/me", token)
        worker = (body or {}).get("worker_id")
    pathways = items(base, token, "/api/v1/pathways")
    pathway = first_id(pathways)
    stage = None
    if pathway:
        status, body = call(base, "GET", f"/api/v1/pathways/{pathway}", token)
        stages = (body or {}).get("stages", []) if status == 200 else []
        stage = stages[0]["id"] if stages else None
    bands = items(base, token, "/api/v1/salary-bands")
    band = first_id(bands)
    table = None
    if band:
        status, body = call(base, "GET", f"/api/v1/salary-bands/{band}", token)
        tables = (body or {}).get("pay_tables", []) if status == 200 else []
        table = tables[0]["id"] if tables else None
    competencies = items(base, token, "/api/v1/competencies")
    users = items(base, token, "/api/v1/users?limit=200")
    jo = first_id(users, display_name="Jo") or first_id(users, email="jo.")
    supervisor = first_id(users, email="alex.supervisor") or first_id(users, role="supervisor")
    w = f"/api/v1/workers/{worker}" if worker else None
    signoffs = items(base, token, f"{w}/signoffs") if w else []
    records = items(base, token, f"{w}/training-records") if w else []
    sessions = items(base, token, f"{w}/supervision-sessions") if w else []
    pauses = items(base, token, f"{w}/pauses") if w else []
    checkins = items(base, token, f"{w}/checkins") if w else []
    progressions = items(base, token, "/api/v1/progressions")
    organisation = me.get("organisation_id")
    networks = items(base, token, "/api/v1/networks")
    chosen = [
        (r"^/api/v1/workers/\{id\}", {"id": worker, "pause_id": first_id(pauses)}),
        (r"^/api/v1/pathways/\{id\}", {"id": pathway, "stage_id": stage}),
        (r"^/api/v1/salary-bands/\{id\}", {"id": band, "table_id": table}),
        (
            r"^/api/v1/competencies/\{id\}",
            {"id": first_id(competencies), "user_id": supervisor},
        ),
        (r"^/api/v1/training-modules/\{id\}", {"id": first_id(items(base, token, "/api/v1/training-modules"))}),
        (r"^/api/v1/users/\{id\}", {"id": jo}),
        (r"^/api/v1/signoffs/\{id\}", {"id": first_id(signoffs)}),
        (r"^/api/v1/training-records/\{id\}", {"id": first_id(records)}),
        (r"^/api/v1/supervision-sessions/\{id\}", {"id": first_id(sessions)}),
        (r"^/api/v1/checkins/\{id\}", {"id": first_id(checkins)}),
        (r"^/api/v1/progressions/\{id\}", {"id": first_id(progressions)}),
        (r"^/api/v1/organisations/\{id\}", {"id": organisation}),
        (
            r"^/api/v1/networks/\{id\}",
            {"id": first_id(networks), "organisation_id": organisation},
        ),
    ]
    return [(path, {k: v for k, v in params.items() if v}) for path, params in chosen]


def config(targets_of_role):
    """The role's schemathesis.toml: the shared settings plus its real path parameters."""
    text = (HERE / "schemathesis.toml").read_text()
    for path, params in targets_of_role:
        if not params:
            continue
        values = ", ".join(f'"path.{k}" = "{v}"' for k, v in params.items())
        text += f"\n[[operations]]\ninclude-path-regex = '{path}'\nparameters = {{ {values} }}\n"
    return text


def totp(secret, step):
    """RFC 6238 as an authenticator app computes it: HMAC-SHA1, 30 s steps, 6 digits."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def sign_in(base, role, email):
    """Signs in; a role that must use two-step verification sets it up with its first code."""
    status, body = call(base, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
    if status == 202 and body["status"] == "enrolment_required":
        code = totp(body["enrolment"]["secret"], int(time.time()) // 30)
        status, body = call(
            base, "POST", "/api/v1/auth/mfa", body={"challenge": body["challenge"], "code": code}
        )
    if status != 200:
        sys.exit(f"{role} cannot sign in: {status}")
    return body["access_token"]


def wait_ready(base, server, log):
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit(f"peerpath serve stopped at start:\n{log.read_text()}")
        try:
            status, _ = call(base, "GET", "/health/ready")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("peerpath serve did not answer ready within a minute")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    # Absolute: schemathesis runs in the work folder.
    binary, schemathesis = (os.path.abspath(a) for a in sys.argv[1:3])
    examples = sys.argv[3] if len(sys.argv) > 3 else "10"
    work = pathlib.Path(tempfile.mkdtemp(prefix="peerpath-contract-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        PEERPATH_ENV="test",
        PEERPATH_CONFIG_DIR=str(ROOT / "config"),
        PEERPATH__DATA__DIR=str(work / "data"),
        PEERPATH__DATABASE__URL=f"sqlite://{work}/data/peerpath.db",
        PEERPATH__SERVER__PORT=str(port),
        PEERPATH__AUTH__ACCESS_TOKEN_TTL_SECS="7200",
        PEERPATH_DEMO_PASSWORD=PASSWORD,
    )
    seeded = subprocess.run([binary, "seed-demo"], env=env, capture_output=True, text=True)
    if seeded.returncode != 0:
        sys.exit(f"seed-demo failed:\n{seeded.stdout}{seeded.stderr}")
    log = work / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([binary, "serve"], env=env, stdout=out, stderr=out)
    failed = []
    try:
        wait_ready(base, server, log)
        # Both sign in before either run: the runs' own login attempts trip the per-client
        # limit for a minute.
        tokens = {role: sign_in(base, role, email) for role, email in ROLES}
        plans = {}
        for role, _ in ROLES:
            status, me = call(base, "GET", "/api/v1/me", tokens[role])
            if status != 200:
                sys.exit(f"{role}: GET /me answered {status}")
            plans[role] = targets(base, tokens[role], me)
        for role, _ in ROLES:
            config_file = work / f"schemathesis-{role}.toml"
            config_file.write_text(config(plans[role]))
            reached = sum(len(p) for _, p in plans[role])
            print(f"== schemathesis as a {role.replace('-', ' ')} ({reached} real path parameters)", flush=True)
            run = subprocess.run(
                [
                    schemathesis,
                    "--config-file",
                    str(config_file),
                    "run",
                    f"{base}/api/v1/openapi.json",
                    "--checks",
                    "all",
                    "--max-examples",
                    examples,
                    "--header",
                    f"Authorization: Bearer {tokens[role]}",
                    "--seed",
                    os.environ.get("PEERPATH_CONTRACT_SEED", "20261204"),
                ],
                env=dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=str(HERE)),
                cwd=work,
            )
            if run.returncode != 0:
                failed.append(role)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    if "panicked" in log.read_text():
        print(f"peerpath serve panicked during the run:\n{log.read_text()[-4000:]}")
        failed.append("serve")
    if server.returncode not in (0, -15):
        print(f"peerpath serve ended with {server.returncode}:\n{log.read_text()[-4000:]}")
        failed.append("serve")
    if failed:
        print(f"contract tests failed: {', '.join(failed)} (server log kept in {log})")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("contract tests: 0 failures as a programme manager and as a peer worker")


if __name__ == "__main__":
    main()
