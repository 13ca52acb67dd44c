#!/usr/bin/env python3
"""Runs PyNN 0.13.0's own system scenario tests (test/system/scenarios in its source
distribution) against galvani.pynn on the CPU backend.

Usage: pynn_scenarios.py [--sdist DIR_OR_TARBALL] [--expected FILE] [pytest args...]

Without --sdist it fetches the sdist with `pip download pynn==0.13.0 --no-binary :all:`.
The scenarios are copied into a temporary package whose `fixtures.run_with_simulators`
parametrizes every scenario with galvani.pynn only (PyNN's own one imports pyNN.<name>).
With --expected, the run fails unless every test listed there passes (and at least 30
do); the list is what the README's PyNN section reports.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

FIXTURES = '''\
"""galvani.pynn's stand-in for PyNN's scenario fixtures: every scenario runs once,
with galvani.pynn as `sim`."""
import sys
import pytest
import galvani.pynn

sys.modules.setdefault("pyNN.galvani", galvani.pynn)


def run_with_simulators(*sim_names):
    return pytest.mark.parametrize("sim", [pytest.param(galvani.pynn, id="galvani")])
'''


def fetch(dest):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "pynn==0.13.0", "--no-binary", ":all:",
         "--no-deps", "-d", dest],
        check=True,
    )
    tars = [f for f in os.listdir(dest) if f.endswith(".tar.gz")]
    if not tars:
        sys.exit("pynn_scenarios: pip download gave no sdist")
    return os.path.join(dest, tars[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdist")
    ap.add_argument("--expected")
    args, rest = ap.parse_known_args()
    work = tempfile.mkdtemp(prefix="pynn-scenarios-")
    try:
        src = args.sdist or fetch(work)
        if os.path.isfile(src):
            with tarfile.open(src) as t:
                t.extractall(work, filter="data")
            root = next(os.path.join(work, d) for d in os.listdir(work)
                        if os.path.isdir(os.path.join(work, d)) and d.lower().startswith("pynn"))
        else:
            root = src
        pkg = os.path.join(work, "galvani_scenarios")
        shutil.copytree(os.path.join(root, "test", "system", "scenarios"), pkg)
        with open(os.path.join(pkg, "fixtures.py"), "w") as f:
            f.write(FIXTURES)
        report = os.path.join(work, "report.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
               "python_files=test_*.py", "--junitxml", report, "galvani_scenarios", *rest]
        env = dict(os.environ, MPLBACKEND="Agg")
        rc = subprocess.run(cmd, cwd=work, env=env).returncode
        passed, other = [], []
        for case in ET.parse(report).getroot().iter("testcase"):
            name = f"{case.get('classname').split('.')[-1]}::{case.get('name')}"
            bad = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
            (other if bad else passed).append(name)
        print(f"pynn_scenarios: {len(passed)} passed, {len(other)} did not (pytest exit {rc})")
        if args.expected:
            with open(args.expected) as f:
                want = [l.split("#")[0].strip() for l in f]
            want = [w for w in want if w]
            missing = sorted(set(want) - set(passed))
            extra = sorted(set(passed) - set(want))
            for m in missing:
                print(f"pynn_scenarios: expected to pass, did not: {m}")
            for e in extra:
                print(f"pynn_scenarios: passes, not in the expected list: {e}")
            if missing or len(passed) < 30:
                return 1
            return 0
        return 0 if rc in (0, 1) else rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
