#!/usr/bin/env bash
# The programs the tests call besides Redis and PostgreSQL (services.sh starts those):
# pdfinfo/pdftotext/pdftoppm (poppler-utils) to read and render letters.pdf; prometheus and
# promtool to scrape, lint metrics and test the alert rules; chromium for the dashboard's browser
# test; postfix, of which the tests run private instances on loopback (the package's own system
# instance is never configured or started: debconf is told "No configuration"). Installed from the system's packages when missing and we are root; otherwise say what to
# install.
set -euo pipefail
need=()
command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
[ -x /usr/sbin/postfix ] && [ -x /usr/lib/postfix/sbin/master ] || need+=(postfix)
((${#need[@]})) || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "test-tools: missing ${need[*]}: install them (apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "test-tools: installing ${need[*]} from the system's packages" >&2
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq "${need[@]}" >/dev/null; }
