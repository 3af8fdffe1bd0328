#!/usr/bin/env bash
# scripts/run.sh - The two Quick start commands of the README.
#   run.sh demo   install what is missing, build, run the delivery demo
#   run.sh test   install what is missing, build with g++ and clang, run every test; the clang
#                 build has AddressSanitizer and UndefinedBehaviorSanitizer
# Both work as root on a fresh Debian 12 machine; build directories are build-demo,
# build-test-gcc and build-test-clang at the top of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

setup() {  # setup DIR [meson options...]: configure, or reconfigure an existing directory
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" > /dev/null
  else
    meson setup "$dir" --wrap-mode=nodownload "$@" > /dev/null
  fi
}

bash scripts/install-deps.sh

case "${1:-}" in
  demo)
    setup build-demo -Dtests=disabled -Dexamples=enabled
    ninja -C build-demo examples/demo examples/smtpipe-send
    ./build-demo/examples/demo
    ;;
  test)
    start=$SECONDS
    echo "== g++: every test (unit, build, fail, examples, interop)"
    setup build-test-gcc -Dwerror=true -Dtests=enabled -Dexamples=enabled -Dinterop=enabled
    ninja -C build-test-gcc
    meson test -C build-test-gcc --no-rebuild --print-errorlogs
    echo "== clang, ASan + UBSan: unit tests, examples, interop and bounded fuzzing, warning-free"
    # One build for the sanitizer pass and clang's warnings: -O1 (quick to build, still fast),
    # every UBSan finding fatal; without -fsanitize=function, whose prologue clang 14 cannot
    # emit for coroutines ("Cannot represent a difference across sections"). LeakSanitizer needs ptrace; where a probe shows it cannot run,
    # leaks go unchecked rather than every test failing.
    CXX=clang++ setup build-test-clang -Dwerror=true -Dtests=enabled -Dexamples=enabled \
      -Dinterop=enabled -Dfuzzing=enabled -Db_sanitize=address,undefined -Db_lundef=false \
      -Doptimization=1 -Ddebug=false "-Dcpp_args=-g1 -fno-sanitize-recover=undefined -fno-sanitize=function"
    leaks=1
    probe=$(mktemp -d)
    echo 'int main() { return 0; }' > "$probe/p.cpp"
    clang++ -fsanitize=address "$probe/p.cpp" -o "$probe/p"
    if ! ASAN_OPTIONS=detect_leaks=1 "$probe/p" > /dev/null 2>&1; then
      leaks=0
      echo "warning: LeakSanitizer cannot run here (no ptrace?): leaks are not checked"
    fi
    rm -rf "$probe"
    # meson test builds what the selected suites run (every unit test, example, the interop
    # tools and fuzz targets); the header-by-header, ODR and consumer builds are g++'s part.
    # The interop driver fails a case whose tool printed a sanitizer report.
    ASAN_OPTIONS="detect_leaks=$leaks:halt_on_error=1:abort_on_error=1:strict_string_checks=1:\
check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1" \
    UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1" \
      meson test -C build-test-clang --print-errorlogs --suite unit --suite examples \
      --suite interop --suite fuzz
    echo "== all tests passed in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 64
    ;;
esac
