#!/usr/bin/env bash
# install.sh BUILD_DIR plain|sanitize — `cmake --install` into a temporary prefix,
# then a C program built only with `pkg-config drive` compiles a circuit with
# libdrive, steps it and checks an output: the installed library, headers,
# pkg-config file and stdlib work together.
set -eu
build=$1 kind=${2:-plain}
# A sanitized libdrive needs a sanitized program to load it.
cflags=""
[ "$kind" = sanitize ] && cflags="-fsanitize=address,undefined"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig
cat > "$prefix/use.c" <<'C'
#include <stdio.h>
#include <drive.h>
int main(int argc, char **argv)
{
    drive_circuit *c = drive_compile(argv[1], NULL, NULL, DRIVE_NO_CACHE);
    if (!c) { fprintf(stderr, "%s\n", drive_last_error()); return 1; }
    drive_pop *p = drive_pop_new(c, 1);
    int x = drive_find(c, DRIVE_ABI_INPUT, "x"), y = drive_find(c, DRIVE_ABI_OUTPUT, "y");
    drive_set(p, 0, x, 0.5);
    drive_step(p, 3);
    printf("%s %g\n", drive_circuit_name(c), drive_get(p, 0, y));
    drive_pop_free(p);
    drive_circuit_free(c);
    return 0;
}
C
cat > "$prefix/smooth.drive" <<'D'
import std.core
circuit smooth {
  input x : real
  output y : real = leaky(x, tau = 10 ms)
}
D
# shellcheck disable=SC2046
cc -std=c11 $cflags -o "$prefix/use" "$prefix/use.c" $(pkg-config --cflags --libs drive)
libdir=$(pkg-config --variable=libdir drive)
out=$(LD_LIBRARY_PATH=$libdir "$prefix/use" "$prefix/smooth.drive")
echo "$out"
# leaky with tau = dt, one tick late: 0.5 (1 - e^-2) after three steps
[ "$out" = "smooth 0.432332" ] || { echo "unexpected output"; exit 1; }
