#!/usr/bin/env bash
# scripts/run.sh - The two Quick start commands of the README.
#   run.sh demo   install what is missing, build, run the delivery demo
#   run.sh test   install what is missing, build with g++ and clang, run every test
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
    echo "== clang: unit tests, examples and bounded fuzzing, built warning-free"
    CXX=clang++ setup build-test-clang -Dwerror=true -Dtests=enabled -Dexamples=enabled \
      -Dinterop=disabled -Dfuzzing=enabled
    # meson test builds what the selected suites run (every unit test, example and fuzz
    # target); the header-by-header, ODR and consumer builds are g++'s part above.
    meson test -C build-test-clang --print-errorlogs --suite unit --suite examples --suite fuzz
    echo "== all tests passed in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 64
    ;;
esac
