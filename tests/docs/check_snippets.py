"""Every C++ block in docs/*.md and README.md must be a region of a file the tests compile.

A block is announced by `<!-- snippet: PATH#TAG -->` on the line before its ```cpp fence; the
block must equal the lines between the two `//! [TAG]` markers of PATH (relative to the
repository root), dedented. A ```cpp block without an announcement is an error, so no code in
the docs escapes the compiler.

usage: check_snippets.py REPOSITORY_ROOT [--update]   (--update rewrites the blocks)
"""
import pathlib
import re
import sys
import textwrap

root = pathlib.Path(sys.argv[1])
update = "--update" in sys.argv
docs = sorted((root / "docs").glob("*.md")) + [root / "README.md"]
announce = re.compile(r"<!-- snippet: (\S+)#(\S+) -->")
errors = []
count = 0


def region(path, tag):
    text = (root / path).read_text(encoding="utf-8").splitlines()
    marks = [i for i, line in enumerate(text) if line.strip() == f"//! [{tag}]"]
    if len(marks) != 2:
        raise ValueError(f"{path}: expected two '//! [{tag}]' markers, found {len(marks)}")
    return textwrap.dedent("\n".join(text[marks[0] + 1:marks[1]])).strip("\n")


for doc in docs:
    lines = doc.read_text(encoding="utf-8").splitlines()
    changed = False
    i = 0
    while i < len(lines):
        if lines[i].strip() in ("```cpp", "```c++"):
            m = announce.search(lines[i - 1]) if i > 0 else None
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            block = "\n".join(lines[i + 1:end]).strip("\n")
            where = f"{doc.relative_to(root)}:{i + 1}"
            if not m:
                errors.append(f"{where}: C++ block without '<!-- snippet: PATH#TAG -->'")
            else:
                try:
                    expected = region(m.group(1), m.group(2))
                    if block != expected and update:
                        lines[i + 1:end] = expected.split("\n")
                        end = i + 1 + len(expected.split("\n"))
                        changed = True
                    elif block != expected:
                        errors.append(f"{where}: block differs from {m.group(1)}#{m.group(2)}")
                    count += 1
                except (OSError, ValueError) as e:
                    errors.append(f"{where}: {e}")
            i = end
        i += 1
    if changed:
        doc.write_text("\n".join(lines) + "\n", encoding="utf-8")

for e in errors:
    print(e)
print(f"{count} snippets checked")
sys.exit(1 if errors else 0)
