#!/usr/bin/env bash
# Runs every test, in layers, cheapest first. Called by `make test` after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

if [ -z "${RSTSCOPE_CORPUS:-}" ] && [ -d ../shared/captures ]; then
  RSTSCOPE_CORPUS="$(cd ../shared/captures && pwd)"
  export RSTSCOPE_CORPUS
fi
echo "RSTSCOPE_CORPUS=${RSTSCOPE_CORPUS:-<not set: the corpus tests will say they did not run>}"

step "format"
cargo fmt --check

step "lints (native and wasm32)"
cargo clippy --release --all-targets -- -D warnings
cargo clippy --release --target wasm32-unknown-unknown --lib --bins -- -D warnings

step "native tests (unit, integration, corpus)"
cargo test --release

step "components in headless Chromium (wasm-bindgen-test)"
# Release, as the page is built: it shares its compiled dependencies with the Trunk build below.
CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown --test web

step "release build of the page, at / and under the Pages sub-path /rstscope/"
cargo build --release --bin rstscope
trunk build --offline --release
trunk build --offline --release --public-url /rstscope/ --dist dist-pages

step "end-to-end tests in headless Chromium"
(cd tests/e2e && npm test)
