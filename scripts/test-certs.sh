#!/usr/bin/env bash
# Makes certificates for trying TLS with a daemon (TlsAddress), with the
# openssl command: a CA, the daemon's certificate for localhost and
# 127.0.0.1 signed by it, and one client certificate for each common name
# given. For tests and trials only: the keys are not protected.
#
#   usage: scripts/test-certs.sh DIR [CLIENT_CN...]
#
# Writes DIR/ca.pem (+ ca.key), DIR/server.crt, DIR/server.key, and for
# each client DIR/CN.crt, DIR/CN.key.
set -euo pipefail
dir="${1:?usage: $0 DIR [CLIENT_CN...]}"
shift
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=spread test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
# sign NAME CN EXTENSIONS
sign() {
    openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out "$1.crt" -days 30 -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
sign server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
for cn in "$@"; do
    sign "$cn" "$cn" "extendedKeyUsage=clientAuth"
done
rm -f ca.srl
