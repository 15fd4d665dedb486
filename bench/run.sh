#!/usr/bin/env bash
# Kappa benchmarks: release build, measured side by side with the named peers in one run.
#
#   bench/run.sh [load|norms|analyze|deepfool|all]   (default: all)
#
# Models are generated (never committed) into bench/models/ by
# ../shared/tools/make_full_models.py, which needs a Python with onnx, numpy and scipy:
# bench/run.sh creates bench/.venv for that (PyPI) unless KAPPA_BENCH_PYTHON points at one.
# Results are printed as a table and written to bench/out/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
what=${1:-all}
models=${KAPPA_BENCH_MODELS:-$root/bench/models}
out=$root/bench/out
mkdir -p "$out" "$models"

py=${KAPPA_BENCH_PYTHON:-}
if [ -z "$py" ]; then
  if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q onnx numpy scipy
  fi
  py=$root/bench/.venv/bin/python
fi
tools=$root/../shared/tools
if [ ! -f "$models/vgg19.onnx" ] || [ ! -f "$models/vgg19_external/vgg19.onnx" ]; then
  echo "generating full-size models into $models (several minutes)…" >&2
  "$py" "$tools/make_full_models.py" "$models" >&2
fi

swift build -c release --product kappa >&2
swift build -c release --product kappa-bench >&2
bin=$(swift build -c release --show-bin-path)

# median of N runs of a command printing one JSON object; field to sort by is total_s
median_json() {  # median_json N FIELD cmd...
  local n=$1 field=$2; shift 2
  for _ in $(seq "$n"); do "$@"; done | "$py" -c "
import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip()]
rows.sort(key=lambda r: r['$field'])
print(json.dumps(rows[len(rows)//2]))"
}

if [ "$what" = load ] || [ "$what" = all ]; then
  echo "== load: ModelLoader + ModelGraph vs onnx.load (median of 5, warm page cache)" >&2
  for m in "$models/vgg19.onnx" "$models/vgg19_external/vgg19.onnx"; do
    cat "$m" > /dev/null  # warm the page cache for both tools alike
    k=$(median_json 5 total_s "$bin/kappa-bench" load "$m")
    kt=$(median_json 3 total_s "$bin/kappa-bench" load "$m" --touch)
    p=$(median_json 5 total_s "$py" -c "
import json,resource,sys,time,onnx
t=time.perf_counter(); m=onnx.load(sys.argv[1]); t=time.perf_counter()-t
print(json.dumps({'total_s':t,'peak_rss_bytes':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss*1024}))" "$m")
    "$py" - "$m" "$k" "$kt" "$p" <<'PY' | tee -a "$out/load.txt"
import json,sys
m,k,kt,p=sys.argv[1],json.loads(sys.argv[2]),json.loads(sys.argv[3]),json.loads(sys.argv[4])
fb,wb=k['file_bytes'],k['weight_bytes']
print(f"{m}: file {fb/1e6:.0f} MB, weights {wb/1e6:.0f} MB")
print(f"  kappa load->ready graph {k['total_s']:.3f} s, peak RSS {k['peak_rss_bytes']/1e6:.0f} MB "
      f"= {k['peak_rss_bytes']/fb:.2f}x file, {k['peak_rss_bytes']/wb:.2f}x weights")
print(f"  kappa + read every weight {kt['total_s']+kt['touch_s']:.3f} s, peak RSS {kt['peak_rss_bytes']/1e6:.0f} MB "
      f"= {kt['peak_rss_bytes']/wb:.2f}x weights")
print(f"  onnx.load               {p['total_s']:.3f} s, peak RSS {p['peak_rss_bytes']/1e6:.0f} MB")
print(f"  ratio kappa/onnx.load: time {k['total_s']/p['total_s']:.2f}, RSS {k['peak_rss_bytes']/p['peak_rss_bytes']:.2f}")
PY
  done
fi
