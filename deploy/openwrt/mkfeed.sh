#!/bin/sh
# mkfeed.sh: an OpenWrt packages feed holding tlsgw, for a tarball made by
# `make dist`.
#
# Usage: sh deploy/openwrt/mkfeed.sh TARBALL FEEDDIR
#   TARBALL  tlsgw-VERSION.tar.gz from `make dist` (VERSION must be the
#            PKG_VERSION of deploy/openwrt/tlsgw/Makefile)
#   FEEDDIR  created or refreshed: FEEDDIR/tlsgw/{Makefile,files/}, with
#            PKG_SOURCE_URL pointing at the tarball's directory (file://)
#            and PKG_HASH set to its SHA-256
#
# Then, in the OpenWrt build tree (or SDK):
#   echo "src-link tlsgw FEEDDIR" >> feeds.conf
#   ./scripts/feeds update tlsgw && ./scripts/feeds install tlsgw
#   make menuconfig    # Network -> tlsgw (M or *)
#   make package/tlsgw/compile
set -eu

[ $# -eq 2 ] || {
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p;}' "$0" >&2
	exit 2
}
tarball=$1
feed=$2
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$tarball" ] || { echo "mkfeed: no file $tarball" >&2; exit 1; }
tardir=$(cd "$(dirname "$tarball")" && pwd)
tarname=$(basename "$tarball")
version=$(sed -n 's/^PKG_VERSION:=//p' "$here/tlsgw/Makefile")
[ "$tarname" = "tlsgw-$version.tar.gz" ] || {
	echo "mkfeed: $tarname is not tlsgw-$version.tar.gz (PKG_VERSION in $here/tlsgw/Makefile)" >&2
	exit 1
}
hash=$(sha256sum "$tarball" | cut -d' ' -f1)

mkdir -p "$feed"
rm -rf "$feed/tlsgw"
cp -R "$here/tlsgw" "$feed/tlsgw"
sed -i \
	-e "s#^PKG_SOURCE_URL:=.*#PKG_SOURCE_URL:=file://$tardir/#" \
	-e "s#^PKG_HASH:=.*#PKG_HASH:=$hash#" \
	"$feed/tlsgw/Makefile"
echo "mkfeed: $feed/tlsgw for $tarname (sha256 $hash)"
echo "mkfeed: in the OpenWrt tree: echo \"src-link tlsgw $(cd "$feed" && pwd)\" >> feeds.conf"
