#!/usr/bin/env bash
# Vendor GraphiQL (UMD build) and its React peer dependencies into
# services/api/static/graphiql/ so the GraphiQL page works without any CDN.
#
# Versions and SHA-256 digests are pinned below. The script fetches the
# packages with `npm pack` into a temporary directory (nothing is left in the
# repository besides the vendored files), verifies every file against the
# pinned digest and fails loudly on any mismatch. Safe to re-run.
#
# To upgrade: change the versions, run once, and replace the digests with the
# ones reported as "got" -- after checking the new files.
set -euo pipefail

GRAPHIQL_VERSION="3.8.3"   # last major line that ships a UMD bundle
REACT_VERSION="18.3.1"
REACT_DOM_VERSION="18.3.1"

# <output file> <package> <path inside package> <sha256>
FILES=(
  "graphiql.min.js graphiql package/graphiql.min.js 22faab94067b695e5f7959619fbe686ebcc8955002a0c97d986bcbba4ad4bc2c"
  "graphiql.min.css graphiql package/graphiql.min.css b1868247f8e0502cd869e581f5f3cb55b334862e7f51b1d6cbace11059b9adc2"
  "react.production.min.js react package/umd/react.production.min.js d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd"
  "react-dom.production.min.js react-dom package/umd/react-dom.production.min.js 35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d"
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/services/api/static/graphiql"

die() { echo "vendor-graphiql: ERROR: $*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found"
command -v sha256sum >/dev/null || die "sha256sum not found"

version_of() {
  case "$1" in
    graphiql) echo "$GRAPHIQL_VERSION" ;;
    react) echo "$REACT_VERSION" ;;
    react-dom) echo "$REACT_DOM_VERSION" ;;
    *) die "unknown package $1" ;;
  esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Fetch and extract each package (npm verifies the registry's integrity hash).
for pkg in graphiql react react-dom; do
  ver="$(version_of "$pkg")"
  echo "vendor-graphiql: fetching $pkg@$ver"
  tarball="$(cd "$work" && npm pack --silent "$pkg@$ver" | tail -n 1)"
  [[ -f "$work/$tarball" ]] || die "npm pack did not produce a tarball for $pkg@$ver"
  mkdir -p "$work/$pkg"
  tar -xzf "$work/$tarball" -C "$work/$pkg"
  actual_ver="$(node -p "require('$work/$pkg/package/package.json').version" 2>/dev/null || true)"
  if [[ -n "$actual_ver" && "$actual_ver" != "$ver" ]]; then
    die "$pkg: expected version $ver, package.json says $actual_ver"
  fi
  [[ -f "$work/$pkg/package/LICENSE" ]] || die "$pkg@$ver has no LICENSE file"
done

# Verify every file before touching the destination.
for entry in "${FILES[@]}"; do
  read -r out pkg path want <<<"$entry"
  src="$work/$pkg/$path"
  [[ -f "$src" ]] || die "$pkg@$(version_of "$pkg"): missing $path"
  got="$(sha256sum "$src" | cut -d' ' -f1)"
  if [[ "$got" != "$want" ]]; then
    die "SHA-256 mismatch for $out ($pkg@$(version_of "$pkg") $path)
  expected: $want
  got:      $got"
  fi
done

# Install into a staging dir, then swap in, so a failure never leaves a
# half-written destination.
stage="$work/stage"
mkdir -p "$stage"
for entry in "${FILES[@]}"; do
  read -r out pkg path want <<<"$entry"
  cp "$work/$pkg/$path" "$stage/$out"
  chmod 0644 "$stage/$out"
done

{
  echo "# Third-party files in this directory"
  echo
  echo "Vendored by \`scripts/vendor-graphiql.sh\` from the npm registry (\`npm pack\`),"
  echo "byte-for-byte unmodified. Do not edit by hand; re-run the script instead."
  echo
  echo "| File | Package | Version | Licence | SHA-256 |"
  echo "|------|---------|---------|---------|---------|"
  for entry in "${FILES[@]}"; do
    read -r out pkg path want <<<"$entry"
    lic="$(node -p "require('$work/$pkg/package/package.json').license" 2>/dev/null || echo "see below")"
    echo "| \`$out\` | \`$pkg\` (\`${path#package/}\`) | $(version_of "$pkg") | $lic | \`$want\` |"
  done
  echo
  echo "Note: \`graphiql.min.js\` is a bundle that also contains GraphiQL's own"
  echo "dependencies (e.g. @graphiql/react, graphql-js, CodeMirror, markdown-it);"
  echo "see the \`graphiql@$GRAPHIQL_VERSION\` package on npm for the full list."
  echo "The \`sourceMappingURL\` comments in the files point to \`.map\` files that are"
  echo "deliberately not vendored (only fetched by browser devtools)."
  for pkg in graphiql react react-dom; do
    echo
    echo "## $pkg $(version_of "$pkg") — licence text (from the package's LICENSE)"
    echo
    echo '```'
    cat "$work/$pkg/package/LICENSE"
    echo '```'
  done
} >"$stage/LICENSES.md"

mkdir -p "$dest"
for f in "$stage"/*; do
  mv -f "$f" "$dest/"
done

echo "vendor-graphiql: OK, files in ${dest#"$repo_root"/}:"
(cd "$dest" && sha256sum -- *.js *.css && wc -c -- *.js *.css LICENSES.md)
