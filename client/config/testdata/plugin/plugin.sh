#!/bin/sh
# A fake client-go credential plugin for exec_credential_test.
#
#   plugin.sh MODE [ARGS...]
#
# Every run appends a line to $KSLICE_PLUGIN_LOG and copies $KUBERNETES_EXEC_INFO to
# $KSLICE_PLUGIN_INFO, when those are set.
if [ -n "$KSLICE_PLUGIN_LOG" ]; then echo run >> "$KSLICE_PLUGIN_LOG"; fi
if [ -n "$KSLICE_PLUGIN_INFO" ]; then printf '%s' "$KUBERNETES_EXEC_INFO" > "$KSLICE_PLUGIN_INFO"; fi

mode=$1
shift
case "$mode" in
  token)  # token API_VERSION TOKEN [EXPIRATION]
    exp=""
    if [ -n "$3" ]; then exp=",\"expirationTimestamp\":\"$3\""; fi
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s"%s}}\n' "$1" "$2" "$exp"
    ;;
  counter)  # counter API_VERSION [EXPIRATION]: token "tok-N", N = runs logged so far
    n=$(wc -l < "$KSLICE_PLUGIN_LOG" | tr -d ' ')
    exp=""
    if [ -n "$2" ]; then exp=",\"expirationTimestamp\":\"$2\""; fi
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"tok-%s"%s}}\n' "$1" "$n" "$exp"
    ;;
  cert)  # cert API_VERSION: a client certificate and key
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{' "$1"
    printf '"clientCertificateData":"-----BEGIN CERTIFICATE-----\\nY2VydA==\\n-----END CERTIFICATE-----\\n",'
    printf '"clientKeyData":"-----BEGIN PRIVATE KEY-----\\na2V5\\n-----END PRIVATE KEY-----\\n"}}\n'
    ;;
  env)  # env API_VERSION: token is the value of $PLUGIN_TOKEN
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s"}}\n' "$1" "$PLUGIN_TOKEN"
    ;;
  stderr)  # stderr API_VERSION: a token, and a line on stderr
    echo "plugin says hello on stderr" >&2
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"t"}}\n' "$1"
    ;;
  fail)
    echo "plugin failed: not logged in" >&2
    exit 3
    ;;
  badjson)
    echo "this is not JSON"
    ;;
  nostatus)  # nostatus API_VERSION
    printf '{"kind":"ExecCredential","apiVersion":"%s"}\n' "$1"
    ;;
  certonly)  # certonly API_VERSION: a certificate without its key
    printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"clientCertificateData":"x"}}\n' "$1"
    ;;
  sleep)
    sleep 30
    ;;
  big)  # more output than the test's limit
    i=0
    while [ $i -lt 200 ]; do
      echo "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      i=$((i + 1))
    done
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
