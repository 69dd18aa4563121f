#!/bin/sh
# Writes the operator's containerd hosts ConfigMap, mounted at $SRC, into
# containerd's config_path $DEST on this node (templates/containerd-hosts.yaml).
#
# Key <host>_hosts.toml -> $DEST/<dir>/hosts.toml, where <dir> is <host> with
# ".." turned back into ":" (ConfigMap keys cannot hold ":", so the operator
# writes registry.local:5000 as registry.local..5000). A directory it writes
# gets a .orchard-managed marker; when its key goes away, its hosts.toml and
# marker are removed, and the directory too if nothing else is left in it.
# Directories without the marker (the node's own configuration) are never
# touched. containerd reads hosts.toml on every pull: no restart needed.
#
# The kubelet updates a ConfigMap volume by swapping its ..data symlink;
# polling every $INTERVAL seconds sees that without inotify tools. Files are
# replaced by rename, so containerd never reads a half-written one.
#
# POSIX sh with cp, mv, rm, rmdir, mkdir, chmod, sed, cmp, sleep (Debian's
# Essential packages or busybox).
set -u

SRC=${SRC:-/etc/orchard/containerd-hosts}
DEST=${DEST:-/etc/containerd/certs.d}
INTERVAL=${INTERVAL:-5}
MARKER=.orchard-managed
SUFFIX=_hosts.toml

log() {
  echo "containerd-hosts-sync: $*"
}

# A registry host (name or address, optional :port) or containerd's _default.
valid_dir() {
  case $1 in
    [A-Za-z0-9_]*) ;;
    *) return 1 ;;
  esac
  case $1 in
    *[!A-Za-z0-9._:-]*) return 1 ;;
  esac
  return 0
}

write_one() {
  src=$1
  target=$2
  if [ -f "$target/hosts.toml" ] && cmp -s "$src" "$target/hosts.toml"; then
    [ -f "$target/$MARKER" ] || : >"$target/$MARKER"
    return 0
  fi
  mkdir -p "$target" &&
    : >"$target/$MARKER" &&
    cp "$src" "$target/.hosts.toml.tmp" &&
    chmod 0644 "$target/.hosts.toml.tmp" &&
    mv -f "$target/.hosts.toml.tmp" "$target/hosts.toml" &&
    log "wrote $target/hosts.toml"
}

sync_once() {
  wanted=' '
  for f in "$SRC"/*"$SUFFIX"; do
    [ -f "$f" ] || continue
    key=${f##*/}
    dir=$(printf '%s\n' "${key%"$SUFFIX"}" | sed 's/\.\./:/g')
    if ! valid_dir "$dir"; then
      log "skipping key $key: not a registry host"
      continue
    fi
    wanted="$wanted$dir "
    write_one "$f" "$DEST/$dir" || log "failed to write $DEST/$dir/hosts.toml"
  done
  for m in "$DEST"/*/"$MARKER"; do
    [ -f "$m" ] || continue
    d=${m%/*}
    case $wanted in
      *" ${d##*/} "*) continue ;;
    esac
    rm -f "$d/hosts.toml" "$m" && log "removed $d/hosts.toml"
    rmdir "$d" 2>/dev/null || true
  done
}

sleeper=
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM INT

log "writing $SRC to $DEST every ${INTERVAL}s"
while :; do
  sync_once
  sleep "$INTERVAL" &
  sleeper=$!
  wait "$sleeper"
  sleeper=
done
