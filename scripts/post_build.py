#!/usr/bin/env python3
"""Trunk post-build hook (see Trunk.toml). Two finishing touches that need the built files:

1. The Content-Security-Policy, added to index.html. It forbids every network connection the
   app does not need to load itself: no third-party origin of any kind, no form posts, no
   frames, no plugins. Trunk writes the code that starts the app as an inline module script,
   so the policy allows exactly that script by its SHA-256 hash, and nothing else inline.
2. The service worker's file list and version, written into sw.js: every file of the build,
   and a hash of all of them, so each release caches its own files under its own name.
"""
import base64
import hashlib
import json
import os
import re
import sys

POLICY = [
    "default-src 'none'",
    # The app's own scripts, WebAssembly compilation, and Trunk's inline start-up script.
    "script-src 'self' 'wasm-unsafe-eval' {hashes}",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    # Loading the app fetches its own .wasm files; nothing else is ever fetched.
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'self'",
    "form-action 'none'",
    "object-src 'none'",
]


def fail(message: str) -> int:
    print(f"post_build.py: {message}", file=sys.stderr)
    return 1


def add_policy(html: str) -> str | None:
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"
        for body in inline
    )
    policy = "; ".join(POLICY).format(hashes=hashes)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}" />'
    if "Content-Security-Policy" in html:
        return None
    html, count = re.subn(r'(<meta charset="utf-8" />)', r"\1\n    " + meta, html, count=1)
    return html if count == 1 else None


def write_service_worker(staging: str) -> bool:
    sw = os.path.join(staging, "sw.js")
    if not os.path.exists(sw):
        return False
    files = []
    digest = hashlib.sha256()
    for root, _, names in os.walk(staging):
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, staging).replace(os.sep, "/")
            if rel == "sw.js":
                continue
            files.append(rel)
            with open(path, "rb") as f:
                digest.update(rel.encode() + b"\0" + f.read())
    files.sort()
    with open(sw, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("'__RSTSCOPE_VERSION__'", json.dumps(digest.hexdigest()[:16]))
    text = text.replace("__RSTSCOPE_FILES__", json.dumps(["./"] + files))
    with open(sw, "w", encoding="utf-8") as f:
        f.write(text)
    return True


def main() -> int:
    staging = os.environ.get("TRUNK_STAGING_DIR")
    if not staging:
        return fail("TRUNK_STAGING_DIR is not set (run it as a Trunk hook)")
    path = os.path.join(staging, "index.html")
    with open(path, encoding="utf-8") as f:
        html = add_policy(f.read())
    if html is None:
        return fail("could not add the Content-Security-Policy to index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    # After index.html is final, so that its bytes are part of the version.
    if not write_service_worker(staging):
        return fail("sw.js is missing from the build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
