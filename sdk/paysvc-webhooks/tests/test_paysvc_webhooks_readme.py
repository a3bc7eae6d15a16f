"""The README's recipes work as printed: the Node.js one runs in `node`, the Django (and, when
Flask is installed, the Flask) view runs in-process, every Python block compiles.

Bodies are signed by a signer written here from the spec and, when paysvc's code is importable
(paysvc's own test run), by paysvc's real signer `notifications.signing.signature_header`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
NODE = shutil.which("node")
SECRET = "whsec_readme_new_0123456789"
OLD_SECRET = "whsec_readme_old_9876543210"
BODY = '{"data":{"goodsName":"Crème brûlée","merchantTradeNo":"42","status":"PAID"},"id":"evt_r"}'

Signer = Callable[[bytes, str, int], str]


def reference_signer(body: bytes, secret: str, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def paysvc_signer(body: bytes, secret: str, t: int) -> str:
    try:
        from notifications.signing import signature_header
    except ImportError:
        pytest.skip("paysvc's notifications.signing is not importable (SDK tested on its own)")
    return signature_header(body=body, secrets=[secret], timestamp=t)


@pytest.fixture(params=[reference_signer, paysvc_signer], ids=["reference-signer", "paysvc-signer"])
def sign(request: pytest.FixtureRequest) -> Signer:
    return request.param  # type: ignore[no-any-return]


def code_blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M)


def python_block(marker: str) -> str:
    [block] = [b for b in code_blocks("python") if marker in b]
    return block


def rotation_header(body: bytes, sign: Signer, t: int) -> str:
    """One v1 per secret, as paysvc sends during a rotation."""
    new, old = sign(body, SECRET, t), sign(body, OLD_SECRET, t)
    return new + "," + old.split(",", 1)[1]


# -- Node.js ---------------------------------------------------------------------------------------
# Runs the README's snippet in a vm context whose require("express") is a stand-in that records
# the route; crypto and Buffer are Node's own. Each case is handed to the route's handler.
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const [snippetFile, casesFile] = process.argv.slice(2);
const routes = [];
function express() {
  return { post: (path, middleware, handler) => routes.push({ path, middleware, handler }),
           listen: () => {} };
}
express.raw = (options) => ({ raw: options });
const env = {};
const context = { require: (name) => (name === "express" ? express : require(name)),
                  process: { env }, Buffer };
vm.createContext(context);
vm.runInContext(fs.readFileSync(snippetFile, "utf8"), context, { filename: "README.md" });
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
const results = cases.map((c) => {
  env.PAYSVC_WEBHOOK_SECRETS = c.secrets;
  const res = {
    code: null, text: null,
    status(code) { this.code = code; return this; },
    send(text) { this.text = String(text); return this; },
    sendStatus(code) { this.code = code; return this; },
  };
  const req = { body: Buffer.from(c.body, "base64"),
                get: (name) => (name.toLowerCase() === "paysvc-signature" ? c.header : undefined) };
  routes[0].handler(req, res);
  return { name: c.name, code: res.code, text: res.text };
});
const first = cases[0];
const event = context.verifyPaysvcEvent(Buffer.from(first.body, "base64"), first.header,
                                        first.secrets.split(","));
process.stdout.write(JSON.stringify({
  routes: routes.map((r) => ({ path: r.path, middleware: r.middleware })), results, event }));
"""


def run_node(tmp_path: Path, cases: list[dict[str, Any]]) -> dict[str, Any]:
    [snippet] = code_blocks("js")
    (tmp_path / "snippet.js").write_text(snippet, encoding="utf-8")
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    for case in cases:
        case["body"] = base64.b64encode(case["body"]).decode()
    (tmp_path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    done = subprocess.run(
        [NODE or "node", "harness.js", "snippet.js", "cases.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


NO_NODE = "node is not installed: the README's Node.js recipe is not run"


@pytest.mark.skipif(NODE is None, reason=NO_NODE)
def test_the_node_recipe_accepts_paysvc_signatures_and_refuses_the_rest(tmp_path, sign):
    body = BODY.encode()
    now = int(time.time())
    good = sign(body, SECRET, now)
    cases = [
        {"name": "valid", "body": body, "header": good, "secrets": SECRET},
        {"name": "rotation", "body": body, "header": rotation_header(body, sign, now),
         "secrets": SECRET},
        {"name": "old-secret", "body": body, "header": sign(body, OLD_SECRET, now),
         "secrets": f"{SECRET},{OLD_SECRET}"},
        {"name": "tampered", "body": body.replace(b"PAID", b"PAIX"), "header": good,
         "secrets": SECRET},
        {"name": "other-secret", "body": body, "header": good, "secrets": OLD_SECRET},
        {"name": "stale", "body": body, "header": sign(body, SECRET, now - 3600),
         "secrets": SECRET},
        {"name": "future", "body": body, "header": sign(body, SECRET, now + 3600),
         "secrets": SECRET},
        {"name": "missing", "body": body, "header": None, "secrets": SECRET},
        {"name": "malformed", "body": body, "header": "garbage", "secrets": SECRET},
        {"name": "no-v1", "body": body, "header": good.split(",")[0], "secrets": SECRET},
    ]  # fmt: skip

    out = run_node(tmp_path, cases)

    assert out["routes"] == [
        {"path": "/hooks/paysvc", "middleware": {"raw": {"type": "application/json"}}}
    ]
    results = {r["name"]: r for r in out["results"]}
    assert {name: r["code"] for name, r in results.items()} == {
        "valid": 200,
        "rotation": 200,
        "old-secret": 200,
        "tampered": 400,
        "other-secret": 400,
        "stale": 400,
        "future": 400,
        "missing": 400,
        "malformed": 400,
        "no-v1": 400,
    }
    assert "no v1 signature matches" in results["tampered"]["text"]
    assert "no v1 signature matches" in results["other-secret"]["text"]
    assert "tolerance" in results["stale"]["text"]
    assert "tolerance" in results["future"]["text"]
    assert "no Paysvc-Signature header" in results["missing"]["text"]
    assert "malformed" in results["malformed"]["text"]
    assert "no v1= signature" in results["no-v1"]["text"]
    assert out["event"] == json.loads(BODY)  # UTF-8 body parsed back intact


# -- Python ----------------------------------------------------------------------------------------
def test_every_python_block_compiles():
    blocks = code_blocks("python")

    assert len(blocks) >= 2
    for block in blocks:
        compile(block, "README.md", "exec")


def _run_view(view: Callable[..., Any], body: bytes, header: str | None) -> Any:
    from django.test import RequestFactory

    extra = {} if header is None else {"HTTP_PAYSVC_SIGNATURE": header}
    request = RequestFactory().post(
        "/hooks/paysvc", data=body, content_type="application/json", **extra
    )
    return view(request)


def test_the_django_example_accepts_and_refuses(monkeypatch, sign):
    django = pytest.importorskip("django", reason="Django is not installed")
    from django.conf import settings

    if not settings.configured:  # on its own; paysvc's run has its settings already
        settings.configure()
        django.setup()
    monkeypatch.setenv("PAYSVC_WEBHOOK_SECRETS", f"{SECRET},{OLD_SECRET}")
    namespace: dict[str, Any] = {"__name__": "readme_django_example"}
    exec(compile(python_block("from django"), "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    handled: list[dict[str, Any]] = []
    namespace["handle_event"] = handled.append
    view = namespace["paysvc_webhook"]
    body = BODY.encode()
    now = int(time.time())

    accepted = _run_view(view, body, sign(body, OLD_SECRET, now))
    tampered = _run_view(view, body.replace(b"42", b"43"), sign(body, SECRET, now))
    stale = _run_view(view, body, sign(body, SECRET, now - 301))
    missing = _run_view(view, body, None)

    assert accepted.status_code == 200
    assert handled == [json.loads(BODY)]
    assert (tampered.status_code, stale.status_code, missing.status_code) == (400, 400, 400)
    assert b"invalid signature: no v1 signature matches" in tampered.content
    assert b"timestamp outside the tolerance" in stale.content
    assert b"no Paysvc-Signature header" in missing.content


def test_the_flask_example_accepts_and_refuses(monkeypatch):
    pytest.importorskip("flask", reason="Flask is not installed: its README example only compiles")
    monkeypatch.setenv("PAYSVC_WEBHOOK_SECRETS", SECRET)
    namespace: dict[str, Any] = {"__name__": "readme_flask_example"}
    exec(compile(python_block("from flask"), "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    handled: list[dict[str, Any]] = []
    namespace["handle_event"] = handled.append
    client = namespace["app"].test_client()
    body = BODY.encode()
    header = reference_signer(body, SECRET, int(time.time()))

    accepted = client.post("/hooks/paysvc", data=body, headers={"Paysvc-Signature": header})
    refused = client.post("/hooks/paysvc", data=body + b" ", headers={"Paysvc-Signature": header})

    assert accepted.status_code == 200
    assert handled == [json.loads(BODY)]
    assert refused.status_code == 400
