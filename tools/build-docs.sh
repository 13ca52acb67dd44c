#!/usr/bin/env bash
# Build the documentation book (docs/, mkdocs.yml) with `mkdocs build --strict`, which
# fails on any warning: a broken link or anchor, a page missing from nav.
#
#   tools/build-docs.sh [SITE_DIR]      # default: a fresh temporary folder
#
# PYTHON selects the interpreter that has mkdocs (default python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

python="${PYTHON:-python3}"
if ! "$python" -c 'import mkdocs' >/dev/null 2>&1; then
    echo "build-docs: mkdocs is not importable by '$python'." >&2
    echo "build-docs: install it with \`pip install mkdocs\` (1.6), or set PYTHON to an interpreter that has it." >&2
    exit 1
fi

site_dir="${1:-$(mktemp -d)/site}"
"$python" -m mkdocs build --strict --site-dir "$site_dir"
echo "build-docs: the book is in $site_dir"
