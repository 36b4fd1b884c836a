#!/usr/bin/env bash
# Build an offline install bundle of nianbao for intranets without internet access:
# nianbao's own wheel plus the wheels of every dependency, for Linux x86-64 (incl. 统信UOS,
# 麒麟 on x86-64) and Windows x64, for each supported Python version, and two install scripts.
#
#   scripts/offline_bundle.sh [output folder] [python versions...]
#   scripts/offline_bundle.sh dist/nianbao-offline 3.11 3.12 3.13
#
# Run it on a machine with internet access (PyPI); copy the folder (or the .zip made from it)
# to the intranet; install with install.sh / install.bat (see README, 离线安装).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/nianbao-offline}
shift || true
versions=${*:-3.11 3.12 3.13}
python=$(command -v "${PYTHON:-python3}")
case "$python" in /*) ;; *) python="$PWD/$python" ;; esac
rm -rf "$out" && mkdir -p "$out/wheels"
"$python" -m pip wheel --no-deps --quiet -w "$out/wheels" .
wheel=$(ls "$out"/wheels/nianbao-*.whl)
for version in $versions; do
  for platform in linux win; do
    # pip evaluates environment markers for the machine it runs on, not the target: the
    # Windows-only dependencies (click needs colorama there) are named explicitly.
    if [ "$platform" = linux ]; then
      tags=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
      extra=()
    else
      tags=(--platform win_amd64)
      extra=(colorama tzdata)
    fi
    echo "Python $version, $platform ..."
    "$python" -m pip download --quiet --only-binary=:all: --implementation cp \
      --python-version "$version" "${tags[@]}" --dest "$out/wheels" "$wheel" "${extra[@]}"
  done
done
cat > "$out/install.sh" <<'SH'
#!/bin/sh
# 离线安装 nianbao（Linux，含统信UOS、麒麟 x86-64）：需要 Python 3.11 或以上
set -e
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-/opt/nianbao}
python3 -m venv "$target/.venv"
"$target/.venv/bin/pip" install --no-index --find-links "$here/wheels" nianbao
echo "安装完成：$target/.venv/bin/nianbao"
SH
cat > "$out/install.bat" <<'BAT'
@echo off
rem 离线安装 nianbao（Windows x64）：需要 Python 3.11 或以上（安装时勾选 Add python.exe to PATH）
set TARGET=%~1
if "%TARGET%"=="" set TARGET=%USERPROFILE%\nianbao
py -3 -m venv "%TARGET%\.venv" || python -m venv "%TARGET%\.venv"
"%TARGET%\.venv\Scripts\pip.exe" install --no-index --find-links "%~dp0wheels" nianbao
echo 安装完成：%TARGET%\.venv\Scripts\nianbao.exe
BAT
chmod +x "$out/install.sh"
(cd "$(dirname "$out")" && "$python" -m zipfile -c "$(basename "$out").zip" "$(basename "$out")")
echo "$(ls "$out/wheels" | wc -l) wheels in $out (and $out.zip)"
