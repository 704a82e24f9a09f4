#!/usr/bin/env python3
"""Trunk post-build hook: adds the page's Content-Security-Policy to the built index.html.

The policy forbids every network connection the app does not need to load itself: no
third-party origin of any kind, no form posts, no frames, no plugins. Trunk writes the code
that starts the app as an inline module script, so the policy allows exactly that script by
its SHA-256 hash (computed here, after Trunk has written it), and nothing else inline.
"""
import base64
import hashlib
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


def main() -> int:
    staging = os.environ.get("TRUNK_STAGING_DIR")
    if not staging:
        print("csp.py: TRUNK_STAGING_DIR is not set (run it as a Trunk hook)", file=sys.stderr)
        return 1
    path = os.path.join(staging, "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"
        for body in inline
    )
    policy = "; ".join(POLICY).format(hashes=hashes)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}" />'
    if "Content-Security-Policy" in html:
        print("csp.py: index.html already has a policy", file=sys.stderr)
        return 1
    html, count = re.subn(r'(<meta charset="utf-8" />)', r"\1\n    " + meta, html, count=1)
    if count != 1:
        print("csp.py: no <meta charset> to put the policy after", file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
