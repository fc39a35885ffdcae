#!/usr/bin/env python3
"""Checks that the C++ code shown in docs/guide is the code that is compiled.

Every ```cpp block in docs/guide/*.md must be preceded by an HTML comment naming the sample file
it comes from, e.g.

    <!-- sample: tests/docs/samples/message_basic.cpp -->
    ```cpp
    ...
    ```

(blank lines may separate the two). The block's text must appear verbatim, as whole lines, in that file.
Exit status: 0 when every block matches, 1 on any mismatch or unmarked block, 2 on bad usage.
Standard library only.
"""

import argparse
import pathlib
import re
import sys

SAMPLE_COMMENT = re.compile(r"^\s*<!--\s*sample:\s*(\S+)\s*-->\s*$")
FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)\s*$")


def blocks(md_path):
    """Yields (line number, language, sample path or None, block text) for every fenced block."""
    lines = md_path.read_text(encoding="utf-8").splitlines()
    pending = None  # (sample path, line number of the comment)
    i = 0
    while i < len(lines):
        line = lines[i]
        m = SAMPLE_COMMENT.match(line)
        if m:
            pending = (m.group(1), i + 1)
            i += 1
            continue
        f = FENCE_OPEN.match(line)
        if f:
            indent, fence, lang = f.group(1), f.group(2), f.group(3).lower()
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*" + re.escape(fence[0]) + "{%d,}\\s*$" % len(fence), lines[i]):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            yield start, lang, (pending[0] if pending else None), "\n".join(body)
            pending = None
            i += 1
            continue
        if line.strip():
            pending = None  # the comment must come right before its block
        i += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[2]),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("--guide", default="docs/guide", help="folder of the Markdown files, relative to --root")
    args = ap.parse_args()

    root = pathlib.Path(args.root).resolve()
    guide = root / args.guide
    mds = sorted(guide.glob("*.md"))
    if not mds:
        print(f"check_samples: no Markdown files in {guide}", file=sys.stderr)
        return 2
    if (root / "README.md").is_file():
        mds.append(root / "README.md")  # its shortest server and client are samples too

    errors = 0
    checked = 0
    used = set()
    cache = {}
    for md in mds:
        rel_md = md.relative_to(root)
        for line_no, lang, sample, text in blocks(md):
            if lang not in ("cpp", "c++"):
                continue
            where = f"{rel_md}:{line_no}"
            if sample is None:
                print(f"{where}: cpp block without a '<!-- sample: PATH -->' comment before it")
                errors += 1
                continue
            path = (root / sample).resolve()
            if path not in cache:
                if not path.is_file():
                    print(f"{where}: sample file {sample} does not exist")
                    errors += 1
                    continue
                cache[path] = "\n" + path.read_text(encoding="utf-8").replace("\r\n", "\n") + "\n"
            used.add(path)
            if ("\n" + text + "\n") not in cache[path]:
                print(f"{where}: block differs from {sample}")
                first = text.splitlines()[0] if text else ""
                print(f"    block starts with: {first!r}")
                errors += 1
                continue
            checked += 1

    samples = root / "tests" / "docs" / "samples"
    for cpp in sorted(samples.glob("*.cpp")):
        if cpp.resolve() not in used:
            print(f"note: {cpp.relative_to(root)} is not shown in docs/guide")

    print(f"check_samples: {checked} block(s) match, {errors} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
