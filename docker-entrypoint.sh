#!/bin/sh
# The container's entrypoint: as root, make the database directory the balto user's (whatever
# created it), then run the command as that user; as any other user, run it as is.
set -eu

BALTO_UID=10001

if [ "$(id -u)" = 0 ]; then
    data_dir=$(dirname "${DB_FILE:-/app/dados/registro.db}")
    mkdir -p "$data_dir"
    # Only what is not ours yet: a large directory is not rewritten at every start.
    find "$data_dir" ! -user "$BALTO_UID" -exec chown "$BALTO_UID:$BALTO_UID" {} +
    exec setpriv --reuid="$BALTO_UID" --regid="$BALTO_UID" --clear-groups -- "$@"
fi
exec "$@"
