#!/usr/bin/env python3
"""Runs PyNN 0.13.0's own system scenario tests (test/system/scenarios in its source
distribution) against galvani.pynn on the CPU backend.

Usage: pynn_scenarios.py [--sdist DIR_OR_TARBALL] [--expected FILE] [pytest args...]

Without --sdist it fetches the sdist with `pip download pynn==0.13.0 --no-binary :all:`.
The scenarios are copied into a temporary package whose `fixtures.run_with_simulators`
parametrizes every scenario with galvani.pynn only (PyNN's own one imports pyNN.<name>).

With --expected (python/tests/pynn_scenarios_expected.txt), every test must be listed
there: as one that must pass, or as an expected failure with the exception it raises,
a text its message holds and the reason. A conftest marks the expected failures as
strict xfails, so pytest reports them as "xfailed" with their reason (`-rfExs`), not as
FAILED; the run fails if a listed test does not pass, if an expected failure passes or
fails otherwise (another exception or message), if a test is not listed, or if fewer
than 30 pass.
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


CONFTEST = '''\
"""The expected failures of tools/pynn_scenarios.py --expected: strict xfails with their
reason; one whose exception or message is not the expected one is an ordinary failure."""
import builtins
import pytest

XFAIL = %r  # test id -> (exception name or "", text of its message or "", reason)
_KEY = pytest.StashKey()


def _test_id(item):
    return item.nodeid.split("/")[-1].replace(".py::", "::")


def pytest_collection_modifyitems(config, items):
    for item in items:
        want = XFAIL.get(_test_id(item))
        if want is None:
            continue
        exc, text, reason = want
        raises = getattr(builtins, exc) if exc else Exception
        item.add_marker(pytest.mark.xfail(raises=raises, reason=reason, strict=True))
        item.stash[_KEY] = text


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    text = item.stash.get(_KEY, "")
    if (text and call.excinfo is not None and hasattr(rep, "wasxfail")
            and text not in str(call.excinfo.value)):
        del rep.wasxfail
        rep.outcome = "failed"
'''


def read_expected(path):
    """(ids that must pass, {id: (exception, text, reason)} of the expected failures)."""
    passing, xfail = [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("xfail") and "|" in line:
                parts = [x.strip() for x in line.split("|")]
                if len(parts) != 5 or parts[0] != "xfail":
                    sys.exit(f"pynn_scenarios: {path}: bad line: {line}")
                xfail[parts[1]] = tuple(parts[2:])
            else:
                passing.append(line.split("#")[0].strip())
    return passing, xfail


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


def source_tree(sdist, work):
    """The PyNN 0.13.0 source tree: `sdist` (a folder, or a tarball unpacked into
    `work`), or the sdist fetched into `work`."""
    src = sdist or fetch(work)
    if not os.path.isfile(src):
        return src
    with tarfile.open(src) as t:
        t.extractall(work, filter="data")
    return next(os.path.join(work, d) for d in os.listdir(work)
                if os.path.isdir(os.path.join(work, d)) and d.lower().startswith("pynn"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdist")
    ap.add_argument("--expected")
    args, rest = ap.parse_known_args()
    work = tempfile.mkdtemp(prefix="pynn-scenarios-")
    try:
        root = source_tree(args.sdist, work)
        pkg = os.path.join(work, "galvani_scenarios")
        shutil.copytree(os.path.join(root, "test", "system", "scenarios"), pkg)
        with open(os.path.join(pkg, "fixtures.py"), "w") as f:
            f.write(FIXTURES)
        want, xfail = read_expected(args.expected) if args.expected else ([], {})
        with open(os.path.join(pkg, "conftest.py"), "w") as f:
            f.write(CONFTEST % (xfail,))
        report = os.path.join(work, "report.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-rfExs", "-p", "no:cacheprovider", "-o",
               "python_files=test_*.py", "--junitxml", report, "galvani_scenarios", *rest]
        env = dict(os.environ, MPLBACKEND="Agg")
        rc = subprocess.run(cmd, cwd=work, env=env).returncode
        result = {}  # test id -> "passed", "failed", "xfailed" or "skipped"
        for case in ET.parse(report).getroot().iter("testcase"):
            name = f"{case.get('classname').split('.')[-1]}::{case.get('name')}"
            tags = {c.tag: c for c in case}
            if "failure" in tags and "XPASS(strict)" in (tags["failure"].get("message") or ""):
                result[name] = "passed"  # an expected failure that passed
            elif "failure" in tags or "error" in tags:
                result[name] = "failed"
            elif "skipped" in tags:
                xf = tags["skipped"].get("type") == "pytest.xfail"
                result[name] = "xfailed" if xf else "skipped"
            else:
                result[name] = "passed"
        count = {k: sum(v == k for v in result.values())
                 for k in ("passed", "xfailed", "skipped", "failed")}
        print(f"pynn_scenarios: {count['passed']} passed, {count['xfailed']} failed as expected "
              f"(xfailed), {count['skipped']} skipped, {count['failed']} failed "
              f"(pytest exit {rc})")
        if not args.expected:
            return 0 if rc in (0, 1) else rc
        bad = []
        for name in want:
            if result.get(name) != "passed":
                bad.append(f"expected to pass, {result.get(name, 'did not run')}: {name}")
        for name, (exc, _, reason) in xfail.items():
            got = result.get(name)
            if got == "passed":
                bad.append(f"expected to fail ({reason}), passed: {name}")
            elif got == "failed":
                bad.append(f"expected to fail with {exc or 'an exception'} ({reason}), "
                           f"failed otherwise: {name}")
            elif got is None:
                bad.append(f"expected to fail ({reason}), did not run: {name}")
        for name in sorted(set(result) - set(want) - set(xfail)):
            bad.append(f"{result[name]}, not in the expected list: {name}")
        for b in bad:
            print(f"pynn_scenarios: {b}")
        if count["passed"] < 30:
            print("pynn_scenarios: fewer than 30 passed")
        if bad or count["passed"] < 30:
            return 1
        if rc not in (0, 1):
            return rc
        print("pynn_scenarios: as expected")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
