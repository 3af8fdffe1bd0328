#!/usr/bin/env bash
# Consumes smtpipe three ways, from outside the repository: as a Meson subproject, through
# its installed pkg-config file, and with a plain -I include. Each build runs its program.
# usage: run.sh SOURCE_ROOT C++-COMPILER
set -euo pipefail
src=$(cd "$1" && pwd)
cxx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
extra=()
if "$cxx" --version | grep -q clang; then extra=(-DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1); fi

echo "== Meson subproject"
cp -r "$src/tests/consumer" "$work/host"
mkdir -p "$work/host/subprojects"
ln -s "$src" "$work/host/subprojects/smtpipe"
CXX=$cxx meson setup "$work/host/build" "$work/host" --wrap-mode=nodownload > "$work/setup.log" \
  || { cat "$work/setup.log"; exit 1; }
grep -q "smtpipe.*(overridden)" "$work/setup.log" || { cat "$work/setup.log"; echo "smtpipe_dep was not used"; exit 1; }
if grep -q "unit_protocol\|doctest" "$work/host/build/build.ninja"; then
  echo "smtpipe built its tests as a subproject"; exit 1
fi
ninja -C "$work/host/build" > /dev/null
"$work/host/build/consumer"

echo "== pkg-config"
CXX=$cxx meson setup "$work/self" "$src" --wrap-mode=nodownload --prefix="$work/prefix" \
  -Dtests=disabled -Dexamples=disabled -Dinstall=enabled > /dev/null
meson install -C "$work/self" > /dev/null
pc_dir=$(dirname "$(find "$work/prefix" -name smtpipe.pc | head -n1)")
[ -f "$work/prefix/include/smtpipe.hpp" ] || { echo "headers not installed with their paths"; exit 1; }
[ -f "$work/prefix/include/smtpipe/session/impl/session.hpp" ] || { echo "impl headers missing"; exit 1; }
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs smtpipe)
case " $flags " in
  *" -DASIO_DISABLE_STD_ALIGNED_ALLOC "*) ;;
  *) echo "smtpipe.pc does not pin Asio's allocation: $flags"; exit 1 ;;
esac
"$cxx" -std=c++20 "${extra[@]}" $flags "$src/tests/consumer/main.cpp" -o "$work/pc_consumer" -pthread
"$work/pc_consumer"

echo "== plain -I include"
"$cxx" -std=c++20 "${extra[@]}" -DASIO_DISABLE_STD_ALIGNED_ALLOC -I"$src/include" "$src/tests/consumer/main.cpp" -o "$work/i_consumer" -pthread
"$work/i_consumer"
