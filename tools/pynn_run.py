#!/usr/bin/env python3
"""Runs an unmodified PyNN script that picks its simulator by name (pyNN.utility's
get_simulator, as PyNN's examples do) on galvani: `pyNN.galvani` is galvani.pynn.

Usage: pynn_run.py SCRIPT.py galvani [script args...]
e.g.   pynn_run.py VAbenchmarks.py galvani CUBA
"""
import os
import runpy
import sys

import galvani.pynn

sys.modules["pyNN.galvani"] = galvani.pynn

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
