"""Compile-fail tests: each case must fail to compile with the message on its first line.

The first line of a case is `// expect: <text>`; the compiler's output must contain <text>.
`// expect: COMPILES` marks the control case, which must compile (so that a broken include
path cannot make every case "fail" for the wrong reason).

usage: check_fails.py CASE.cpp -- COMPILER ARGS...
"""
import subprocess
import sys

case = sys.argv[1]
compiler = sys.argv[sys.argv.index("--") + 1:]
with open(case, encoding="utf-8") as f:
    first = f.readline()
if not first.startswith("// expect: "):
    sys.exit(f"{case}: first line must be '// expect: <text>'")
expected = first[len("// expect: "):].strip()
run = subprocess.run(compiler + ["-fsyntax-only", case], capture_output=True, text=True)
output = run.stdout + run.stderr
if expected == "COMPILES":
    if run.returncode != 0:
        sys.exit(f"{case}: the control case does not compile:\n{output}")
    sys.exit(0)
if run.returncode == 0:
    sys.exit(f"{case}: compiled, but it must fail with '{expected}'")
if expected not in output:
    sys.exit(f"{case}: failed without the expected message '{expected}':\n{output[:4000]}")
print(f"{case}: refused with '{expected}'")
