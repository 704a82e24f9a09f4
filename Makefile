# The two commands of README.md, and the checks behind them. Each target installs what is
# missing first (scripts/setup.sh skips what is already there).
.PHONY: serve test build pages

# Build the page and serve it on http://127.0.0.1:8080
serve:
	scripts/setup.sh web
	trunk serve --offline --release --no-autoreload

# Every test: format and lints, native unit/integration/corpus tests, components in headless
# Chromium (wasm-bindgen-test), the release page build, and the end-to-end browser tests.
test:
	scripts/setup.sh test
	scripts/test.sh

# The release page in dist/
build:
	scripts/setup.sh web
	trunk build --offline --release

# The release page for GitHub Pages in dist-pages/, served from a sub-path (the repository's
# name). The Pages workflow runs exactly this; `make test` does too, as a dry run.
PUBLIC_URL ?= /rstscope/
pages:
	scripts/setup.sh web
	trunk build --offline --release --public-url $(PUBLIC_URL) --dist dist-pages
