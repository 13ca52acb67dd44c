#!/usr/bin/env python3
"""Runs PyNN 0.13.0's own example scripts (examples/*.py of its source distribution)
unmodified on galvani.pynn (through tools/pynn_run.py, as `galvani` is named on their
command line) and reports which run to the end.

Usage: pynn_examples.py [--sdist DIR_OR_TARBALL] [--timeout S] [--only NAME ...]

Without --sdist it fetches the sdist with pip (as tools/pynn_scenarios.py does). Each
script runs in its own process, in a scratch folder with the `Results/` folder the
examples write into, with MPLBACKEND=Agg and a time limit (default 300 s); a script
passes when it exits 0. For each failure the last line
of its error output is shown (for a missing feature, galvani.pynn's NotImplementedError
naming it). Scripts that need something no simulator backend provides (a GUI, NeuroML
files, a plotting-only input) fail the same way on every backend and are listed too.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pynn_scenarios import source_tree  # noqa: E402

# Arguments PyNN's examples take besides the simulator name (from their docstrings).
ARGS = {"VAbenchmarks.py": ["CUBA"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdist")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pynn-examples-")
    try:
        root = source_tree(args.sdist, work)
        examples = os.path.join(root, "examples")
        scripts = sorted(f for f in os.listdir(examples) if f.endswith(".py"))
        if args.only:
            scripts = [s for s in scripts if s in args.only or s[:-3] in args.only]
        env = dict(os.environ, MPLBACKEND="Agg")
        passed, failed = [], []
        for s in scripts:
            run_dir = tempfile.mkdtemp(dir=work)
            # PyNN's examples write their figures and data into ./Results
            os.makedirs(os.path.join(run_dir, "Results"))
            cmd = [sys.executable, os.path.join(HERE, "pynn_run.py"), os.path.join(examples, s),
                   "galvani", *ARGS.get(s, [])]
            try:
                p = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True,
                                   timeout=args.timeout)
                ok, why = p.returncode == 0, (p.stderr.strip().splitlines() or ["?"])[-1]
            except subprocess.TimeoutExpired:
                ok, why = False, f"over {args.timeout:.0f} s"
            (passed if ok else failed).append((s, why))
            print(f"{'pass' if ok else 'FAIL'}  {s}" + ("" if ok else f"  -- {why[:160]}"),
                  flush=True)
        print(f"pynn_examples: {len(passed)} of {len(scripts)} run to the end on galvani.pynn")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
