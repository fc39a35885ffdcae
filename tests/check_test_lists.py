#!/usr/bin/env python3
"""Checks that ctest runs every Catch2 test case, each exactly once, under its own name.

catch_discover_tests turns each line of `<binary> --list-test-names-only` into a ctest entry whose command
is `<binary> <name as a test spec>`. A name can break that silently: a ';' splits it into two CMake list
elements (two entries that match no test case, run nothing and pass), and characters the test-spec parser
treats specially can make an entry match nothing or more than its own test case. For every Catch2 binary
this script checks

  1. the test cases the binary lists and the ctest entries that run the binary are the same names;
  2. each entry's test spec selects exactly its own test case: a name of plain characters does by the rules
     of Catch2's test-spec parser, any other is asked of the binary with --list-test-names-only (which runs
     nothing; a sanitized binary takes ~0.1 s to start, hence not for every name);
  3. the binary fails a test case that runs no assertion and a run that matches no test case (tests/main.cpp
     turns on Catch2's --warn NoAssertions and --warn NoTests): it runs the hidden "[selfcheck]" test case,
     which has no assertion, and a test spec that matches nothing, and expects both to fail.

It also refuses a program built in the build directory that ctest runs more than once but that is not named
as a Catch2 binary, so that a new catch_discover_tests() without tofu_catch_discover_tests() is noticed.

Usage: check_test_lists.py --build-dir DIR [--ctest CTEST] [--config CFG] BINARY...
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys


# A cross build's binaries run through its emulator (CMAKE_CROSSCOMPILING_EMULATOR: wine), named here by
# tests/CMakeLists.txt; ctest's commands then start with it.
EMULATOR = os.environ.get("TOFU_TEST_EMULATOR", "").split()


def run(cmd, cwd=None):
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    return proc.returncode, proc.stdout.replace("\r\n", "\n"), proc.stderr


def run_binary(cmd, cwd=None):
    return run(EMULATOR + cmd, cwd=cwd)


def listed_names(binary, spec=None, cwd=None):
    """The test cases `binary [spec] --list-test-names-only` prints, one a line."""
    cmd = [binary] + ([spec] if spec is not None else []) + ["--list-test-names-only"]
    rc, out, err = run_binary(cmd, cwd=cwd)
    if rc < 0:
        raise RuntimeError(f"{' '.join(cmd)} died with signal {-rc}:\n{err}")
    names = []
    for line in out.split("\n"):
        if line == "":
            continue
        # Catch2 2.x quotes names that start with '#' in this listing.
        if line.startswith('"#') and line.endswith('"'):
            line = line[1:-1]
        names.append(line)
    return names


# Words of characters that neither CMake nor Catch2's test-spec parser treat specially, one space apart: such a
# name, passed as the test spec, selects the test case of that name (case-insensitively) and nothing else.
# Other names (',' '[' ']' '\' '"' '~' '*' ';', non-ASCII, odd spaces) are asked of the binary.
PLAIN = re.compile(r"[A-Za-z0-9_.:/'()+=<>-]+( [A-Za-z0-9_.:/'()+=<>-]+)*")


def plain(name):
    return PLAIN.fullmatch(name) is not None and not name.lower().startswith("exclude:")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--ctest", default="ctest")
    ap.add_argument("--config", default=None, help="ctest -C, for multi-config generators")
    ap.add_argument("binaries", nargs="+", help="the Catch2 test binaries registered with ctest")
    opts = ap.parse_args()

    cmd = [opts.ctest, "--test-dir", opts.build_dir, "--show-only=json-v1"]
    if opts.config:
        cmd += ["-C", opts.config]
    rc, out, err = run(cmd)
    if rc != 0:
        print(f"FAIL: {' '.join(cmd)} exited with {rc}:\n{err}")
        return 1
    tests = json.loads(out).get("tests", [])

    binaries = {os.path.realpath(b): b for b in opts.binaries}
    entries = collections.defaultdict(list)  # binary -> [(ctest name, args, working directory)]
    runs = collections.Counter()  # executable -> ctest entries running it
    for t in tests:
        command = t.get("command") or []
        if EMULATOR and command[: len(EMULATOR)] == EMULATOR:
            command = command[len(EMULATOR) :]
        if not command:
            continue
        exe = os.path.realpath(command[0])
        runs[exe] += 1
        if exe in binaries:
            wd = None
            for p in t.get("properties", []):
                if p.get("name") == "WORKING_DIRECTORY":
                    wd = p.get("value")
            entries[exe].append((t["name"], command[1:], wd))

    problems = []
    checked = 0
    asked = 0
    for exe, shown in binaries.items():
        if not os.path.exists(exe):
            problems.append(f"{shown}: no such binary")
            continue
        names = listed_names(exe)
        mine = entries.get(exe, [])
        ctest_names = [name for name, _, _ in mine]
        if not names:
            problems.append(f"{shown}: lists no test case")
        for name, count in collections.Counter(ctest_names).items():
            if count > 1:
                problems.append(f"{shown}: ctest has {count} entries named {name!r}")
        for name in sorted(set(names) - set(ctest_names)):
            problems.append(f"{shown}: test case {name!r} has no ctest entry (it never runs under ctest)")
        for name in sorted(set(ctest_names) - set(names)):
            problems.append(f"{shown}: ctest entry {name!r} is not a test case of the binary")
        lowered = collections.Counter(n.lower() for n in names)
        for name, args, wd in mine:
            checked += 1
            if not args:
                problems.append(f"{shown}: ctest entry {name!r} passes no test spec (it runs every test case)")
                continue
            if args[0] == name and plain(name) and lowered[name.lower()] == 1:
                continue  # Catch2 reads a plain name as itself: an exact, case-insensitive match
            asked += 1
            selected = listed_names(exe, args[0], cwd=wd)
            if selected != [name]:
                problems.append(f"{shown}: ctest entry {name!r} runs {selected!r} instead of itself")

        rc, out, _ = run_binary([exe, "[selfcheck]"])
        if rc == 0 or "No assertions in test case" not in out:
            problems.append(f"{shown}: a test case without assertions passes (exit {rc}; build it with "
                            f"tests/main.cpp, which turns on --warn NoAssertions)")
        rc, out, _ = run_binary([exe, "tests: no test case has this name"])
        if rc == 0:
            problems.append(f"{shown}: a run that matches no test case passes (build it with tests/main.cpp, "
                            f"which turns on --warn NoTests)")

    build_dir = os.path.realpath(opts.build_dir) + os.sep
    for exe, count in sorted(runs.items()):
        if count > 1 and exe not in binaries and exe.startswith(build_dir):
            problems.append(f"{exe}: {count} ctest entries run it but it is not checked as a Catch2 binary "
                            "(register it with tofu_catch_discover_tests)")

    if problems:
        print("FAIL: the ctest entries and the Catch2 test cases disagree:")
        for p in problems:
            print("  " + p)
        return 1
    print(f"OK: {checked} ctest entries, one per test case of {len(binaries)} Catch2 binaries, "
          f"each selecting only its own test case ({asked} with special characters asked of the binary)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
