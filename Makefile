# The two commands of README.md, and the checks behind them. Each target installs what is
# missing first (scripts/setup.sh skips what is already there).
.PHONY: serve test build pages bench bench-browser

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

# Benchmarks (BENCHMARKS.md). Native: the release CLI against tshark on the corpus's composite
# captures and generated 100 MB / 1 GB captures (made once in target/bench/), results in
# target/bench/results.md.
bench:
	scripts/bench.sh

# The page in headless Chromium on the generated captures; expects dist/ from `make build` and
# target/bench/gen-*.pcap from `make bench` (or BENCH_FILES="a.pcap b.pcap").
bench-browser:
	scripts/setup.sh test
	node tests/e2e/bench.mjs $(BENCH_FILES)
