#!/bin/sh
# build.sh OUTPUT: builds the portal binary the way the container image and CI both build it:
# static (no cgo: SQLite is pure Go, so the distroless static base needs no libc), without
# local paths in the binary (-trimpath), without symbol tables (-s -w).
# Run it from anywhere; it builds the module that contains this script's parent directory.
set -eu

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 OUTPUT (for example: $0 /tmp/portal)" >&2
	exit 2
fi
out=$1
case $out in
/*) ;;
*) out="$(pwd)/$out" ;;
esac

cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out" ./cmd/portal
