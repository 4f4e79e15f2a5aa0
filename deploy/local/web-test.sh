#!/usr/bin/env bash
# The web page's test in a real headless Chromium, against the running services:
# installs Debian's chromium and chromium-driver when missing and Selenium (pinned, into
# .conveyor/tools), then runs Tests/web/test_page.py. Screenshots go to .conveyor/artifacts/web.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
SELENIUM_VERSION="4.50.0"
TOOLS="$CONVEYOR_REPO_ROOT/.conveyor/tools/selenium-$SELENIUM_VERSION"

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "[web] installing chromium and chromium-driver"
    mkdir -p "$CONVEYOR_REPO_ROOT/.conveyor/logs"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium chromium-driver \
        >> "$CONVEYOR_REPO_ROOT/.conveyor/logs/apt.log" 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >> "$CONVEYOR_REPO_ROOT/.conveyor/logs/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium chromium-driver \
            >> "$CONVEYOR_REPO_ROOT/.conveyor/logs/apt.log" 2>&1
    }
fi
if [[ ! -x "$TOOLS/bin/python" ]] || ! "$TOOLS/bin/python" -c "import selenium" 2>/dev/null; then
    echo "[web] installing selenium $SELENIUM_VERSION into $TOOLS"
    rm -rf "$TOOLS"
    /usr/bin/python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
fi
rm -rf "$CONVEYOR_REPO_ROOT/.conveyor/artifacts/web"
echo "[web] the web page in headless $(chromium --version 2>/dev/null | head -n 1)"
"$TOOLS/bin/python" "$CONVEYOR_REPO_ROOT/Tests/web/test_page.py"
