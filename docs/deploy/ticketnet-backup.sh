#!/bin/sh
# Nightly backup of Ticket Net: write a backup while the site serves, read it back to check it,
# keep KEEP_DAYS days of them. Run as the ticketnet user with the service's environment
# (ticketnet-backup.service does both). Copy BACKUP_DIR to another machine too: a backup that
# lives on the server it protects is lost with it.
set -eu
BACKUP_DIR=${BACKUP_DIR:-/var/backups/ticketnet}
KEEP_DAYS=${KEEP_DAYS:-30}
TICKETNET=${TICKETNET:-/opt/ticketnet/venv/bin/ticketnet}

file="$BACKUP_DIR/ticketnet-$(date +%Y-%m-%d-%H%M%S).zip"
"$TICKETNET" backup --quiet "$file"
"$TICKETNET" restore --dry-run "$file" >/dev/null
find "$BACKUP_DIR" -maxdepth 1 -name 'ticketnet-*.zip' -mtime +"$KEEP_DAYS" -delete
echo "$file"
