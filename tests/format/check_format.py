"""The C++ sources follow the repository's .clang-format (clang-format 14, Debian's).

usage: check_format.py SOURCE_ROOT CLANG_FORMAT
Checks every .hpp/.cpp under include/, tests/, examples/ and benchmarks/ (not node_modules)
with --dry-run --Werror; prints clang-format's findings and fails on any.
"""
import pathlib
import subprocess
import sys

root, clang_format = pathlib.Path(sys.argv[1]), sys.argv[2]
files = sorted(
    str(p)
    for top in ("include", "tests", "examples", "benchmarks")
    for p in (root / top).rglob("*")
    if p.suffix in (".hpp", ".cpp") and "node_modules" not in p.parts
)
r = subprocess.run([clang_format, "--dry-run", "--Werror", *files], capture_output=True, text=True)
if r.returncode != 0:
    sys.stdout.write(r.stderr[-20000:])
    sys.exit(f"{len(files)} files checked: not formatted (run clang-format -i on them)")
print(f"{len(files)} files checked: formatted")
