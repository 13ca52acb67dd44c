#!/usr/bin/env bash
# The whole test suite: the Rust tests (`cargo test`), then the Python package built and
# installed as a user would (`pip install .` in a fresh virtual environment) and its
# tests (pytest; matplotlib for the example), then PyNN 0.13.0's own system scenarios
# against galvani.pynn (tools/pynn_scenarios.py; the sdist is fetched with pip). Usage: tools/test-all.sh [extra pytest args]
# GALVANI_VENV=DIR keeps the venv there (default: a fresh temporary one, removed after).
set -euo pipefail
cd "$(dirname "$0")/.."

# Mesa's device-select layer would make libwayland print "error: XDG_RUNTIME_DIR is
# invalid or not set" once per in-process GPU probe on a machine without a desktop
# session; galvani picks its adapter itself, so the layer is switched off (as cargo's
# .cargo/config.toml and the galvani binary do). A value the user set wins.
export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"

echo "== cargo test"
cargo test

echo "== the core crate has no face dependencies"
if cargo tree -p galvani -e normal --prefix none | grep -E '^(clap|plotters|indicatif|ab_glyph) '; then
  echo "test-all: the core crate (galvani) depends on a face's crate (above)" >&2
  exit 1
fi
echo "cargo tree -p galvani -e normal: no clap, plotters, indicatif or font"

echo "== Python package: pip install . in a fresh venv"
py=python3
if ! "$py" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
  echo "test-all: the Python package needs Python >= 3.10 (found: $("$py" --version 2>&1))" >&2
  exit 1
fi
venv="${GALVANI_VENV:-}"
if [ -z "$venv" ]; then
  venv="$(mktemp -d)/venv"
  trap 'rm -rf "$(dirname "$venv")"' EXIT
fi
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
t0=$(date +%s)
"$venv/bin/python" -m pip install -q ".[pynn]" pytest matplotlib scipy mkdocs
echo "pip install . took $(( $(date +%s) - t0 )) s"

echo "== documentation book (mkdocs build --strict: broken internal links fail)"
PYTHON="$venv/bin/python" tools/build-docs.sh "$(dirname "$venv")/site"
# run from outside the source tree, so that the installed package is what is imported
(cd /tmp && "$venv/bin/python" -c 'import galvani; print("import galvani", galvani.__version__, "from", galvani.__file__)')

echo "== pytest"
set +e
"$venv/bin/python" -m pytest -q "$@" python/tests
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test-all: pytest collected no tests (exit 5): that is a failure" >&2
  exit 1
fi
[ "$rc" = 0 ] || exit "$rc"

echo "== PyNN 0.13.0's system scenarios against galvani.pynn (CPU)"
root="$PWD"
(cd /tmp && "$venv/bin/python" "$root/tools/pynn_scenarios.py" -q --tb=line \
  --expected "$root/python/tests/pynn_scenarios_expected.txt")
