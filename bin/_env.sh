# Sourced by bin/run and bin/manage after _venv.sh: the environment the console runs in. Unset keys
# are made once and kept in var/ (which git ignores), so every command finds the same ones.
VAR_DIR="${LIVEWARD_VAR_DIR:-$PWD/var}"
# What the console makes (the SQLite files, media, exports, keys) is the user's alone: 0600 / 0700.
umask 077
mkdir -p "$VAR_DIR"
chmod 700 "$VAR_DIR"
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  [ -s "$VAR_DIR/secret_key" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$VAR_DIR/secret_key"
  chmod 600 "$VAR_DIR/secret_key"
  export SECRET_KEY_FILE="$VAR_DIR/secret_key"
fi
if [ -z "${LIVEWARD_BLACKLIST_HASH_KEY:-}" ] && [ -z "${LIVEWARD_BLACKLIST_HASH_KEY_FILE:-}" ]; then
  # The blacklist's identity-hash key: a new key would make every entry miss.
  [ -s "$VAR_DIR/blacklist_hash_key" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$VAR_DIR/blacklist_hash_key"
  chmod 600 "$VAR_DIR/blacklist_hash_key"
  export LIVEWARD_BLACKLIST_HASH_KEY_FILE="$VAR_DIR/blacklist_hash_key"
fi
if [ -z "${LIVEWARD_IDENTITY_KEY:-}" ] && [ -z "${LIVEWARD_IDENTITY_KEY_FILE:-}" ]; then
  # The key that encrypts identity at rest: without it the stored identity is unreadable.
  [ -s "$VAR_DIR/identity_key" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$VAR_DIR/identity_key"
  chmod 600 "$VAR_DIR/identity_key"
  export LIVEWARD_IDENTITY_KEY_FILE="$VAR_DIR/identity_key"
fi
export SERVE_STATIC="${SERVE_STATIC:-1}"
