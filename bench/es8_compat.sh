#!/usr/bin/env bash
# The index stage's tests against Elasticsearch 8.19 with the 8.x Python client.
#
#   bench/es8_compat.sh                 # 8.19.4 on 127.0.0.1:9201, venv /tmp/venv-es8
#   ES8_VERSION=8.19.5 ES8_PORT=9301 MAIN_VENV=.venv bench/es8_compat.sh
#
# The node comes from Maven Central (integ-test-zip) through pipeline/local_es.py and
# is stopped again at the end if this script started it. The 8.x venv holds only
# elasticsearch>=8.19,<9 (and its elastic-transport 8.x); everything else (Beam, lxml,
# pytest) is borrowed from MAIN_VENV through a .pth file placed after its own packages.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
ES8_VERSION="${ES8_VERSION:-8.19.4}"
ES8_PORT="${ES8_PORT:-9201}"
MAIN_VENV="${MAIN_VENV:-/tmp/venv-probe}"
ES8_VENV="${ES8_VENV:-/tmp/venv-es8}"
URL="http://127.0.0.1:${ES8_PORT}"

if [ ! -x "$ES8_VENV/bin/python" ]; then
  "$MAIN_VENV/bin/python" -m venv "$ES8_VENV"
  "$ES8_VENV/bin/pip" install -q "elasticsearch>=8.19,<9"
  site="$("$MAIN_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  own="$("$ES8_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$site" > "$own/zz-main-venv.pth"
fi
"$ES8_VENV/bin/python" - <<'PY'
import elasticsearch, elastic_transport
assert elasticsearch.__versionstr__.startswith("8."), elasticsearch.__versionstr__
print(f"client: elasticsearch {elasticsearch.__versionstr__}, elastic-transport {elastic_transport.__version__}")
PY

started=0
if ! curl -sf "$URL/_cluster/health" >/dev/null; then
  PYTHONPATH="$REPO" "$MAIN_VENV/bin/python" -c "
from pipeline.elasticsearch.local_node import LocalEs
es = LocalEs.from_env(port=$ES8_PORT); es.version = '$ES8_VERSION'; print(es.up())"
  started=1
fi
stop() {
  if [ "$started" = 1 ]; then
    PYTHONPATH="$REPO" "$MAIN_VENV/bin/python" -c "
from pipeline.elasticsearch.local_node import LocalEs
es = LocalEs.from_env(port=$ES8_PORT); es.version = '$ES8_VERSION'; es.down()"
  fi
}
trap stop EXIT
echo "server: $(curl -s "$URL/_nodes/_local/version?filter_path=nodes.*.version" | tr -d '\n')"

cd "$REPO"
WIRENEWS_TEST_ES_URL="$URL" PYTHONPATH="$REPO" "$ES8_VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_document.py tests/test_sink.py tests/test_sink_faults.py tests/test_index_pipeline.py \
  tests/test_bootstrap.py tests/test_es_client.py tests/test_kibana.py "$@"
