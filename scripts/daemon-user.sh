# Sourced by the scripts that start daemons. Started as root, spread gives
# up root for DaemonUser/DaemonGroup (default spread/spread), as 5.0.1
# does, and refuses to run if they do not exist: create them as a package
# would.
if [ "$(id -u)" = 0 ] && ! getent passwd spread >/dev/null; then
  echo "note: creating the system user and group 'spread' (a daemon started as root runs as them)" >&2
  getent group spread >/dev/null || groupadd --system spread
  useradd --system --gid spread --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin spread
fi
