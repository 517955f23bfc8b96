#!/usr/bin/env bash
# The .deb and .rpm packages built by CPack hold the installed layout of CONTRACT §7: the
# binary, both configuration files, both systemd units, and a post-install step that creates
# the pganalytics user and its state directories.
set -euo pipefail
: "${PGA_BUILD_DIR:?the build directory}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { if grep -q -- "$2" <<<"$3"; then pass "$1"; else fail "$1: $2 missing"; fi; }

(cd "$PGA_BUILD_DIR" && cpack -G DEB -B "$work" >"$work/cpack-deb.log" 2>&1) || { cat "$work/cpack-deb.log"; exit 1; }
deb=$(ls "$work"/*.deb)
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/pganalytics ./etc/pganalytics/server.toml ./etc/pganalytics/agent.toml \
  ./lib/systemd/system/pganalytics-server.service ./lib/systemd/system/pganalytics-agent.service; do
  has "the .deb installs $path" " $path" "$contents"
done
has "the .deb has the post-install step" "useradd --system" "$(dpkg-deb -I "$deb" postinst)"
has "the configuration files are conffiles" "/etc/pganalytics/server.toml" "$(dpkg-deb -I "$deb" conffiles)"
dpkg-deb -x "$deb" "$work/root"
for unit in server agent; do
  has "the $unit unit raises the open-file limit" "^LimitNOFILE=" "$(cat "$work/root/lib/systemd/system/pganalytics-$unit.service" 2>/dev/null)"
done
if "$work/root/usr/bin/pganalytics" --version | grep -q '^pganalytics '; then pass "the packaged binary runs"; else fail "the packaged binary runs"; fi
if "$work/root/usr/bin/pganalytics" check-config --config "$work/root/etc/pganalytics/agent.toml" >/dev/null; then
  pass "the packaged agent.toml is valid"; else fail "the packaged agent.toml is valid"; fi

(cd "$PGA_BUILD_DIR" && cpack -G RPM -B "$work/rpm" >"$work/cpack-rpm.log" 2>&1) || { cat "$work/cpack-rpm.log"; exit 1; }
rpm_file=$(ls "$work"/rpm/*.rpm)
rpm_contents=$(rpm -qlp "$rpm_file" 2>/dev/null)
for path in /usr/bin/pganalytics /etc/pganalytics/server.toml /lib/systemd/system/pganalytics-agent.service; do
  has "the .rpm installs $path" "^$path\$" "$rpm_contents"
done
has "the .rpm marks the configuration as config" "/etc/pganalytics/server.toml" "$(rpm -qcp "$rpm_file" 2>/dev/null)"
has "the .rpm has the post-install step" "useradd --system" "$(rpm -qp --scripts "$rpm_file" 2>/dev/null)"
[ "$failures" = 0 ] && echo "all checks passed" || { echo "$failures check(s) failed" >&2; exit 1; }
