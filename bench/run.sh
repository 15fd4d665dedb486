#!/usr/bin/env bash
# Kappa benchmarks: release build, measured side by side with the named peers in one run.
#
#   bench/run.sh [inspect|load|norms|operator|analyze|kernels|deepfool|engine|bracket|all]   (default: all)
#
# engine: the reference engine's forward and forward + VJP against onnxruntime's forward on the
# same files in the same run (bench/peer_ort.py; onnxruntime is installed into bench/.venv for
# it — a development-time peer, never a dependency of the product).
#
# norms: KAPPA_BENCH_REPEATS (default 3) interleaved runs of kappa and of scipy svds, medians
# compared; the LAPACK reference (peer_norms.py --method svd, minutes) is cached in bench/out
# unless KAPPA_BENCH_FRESH_SVD is set.
#
# operator (also part of norms and all): `kappa analyze --norm operator` on AlexNet, VGG-19 and
# ResNet-50 at 1x3x224x224, KAPPA_BENCH_OP_REPEATS (default 3) runs interleaved with the
# previous main (KAPPA_BENCH_BASELINE_REV, default 50ba720, built in a worktree under bench/out,
# or the kappa binary KAPPA_BENCH_BASELINE): median wall and CPU (user + sys) time and the
# upper/lower range of σ_op over the convolutions, for both; plus VGG-19 --norm matrix for
# both (is certifying in matrix mode affordable?). The machine is shared: compare within a run.
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
    bench/.venv/bin/pip install -q onnx numpy scipy onnxruntime
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

if [ "$what" = inspect ] || [ "$what" = all ]; then
  echo "== inspect: every generated architecture, and AlexNet/VGG-19 written by Kappa's own writer" >&2
  [ -f "$models/writer_bert_encoder.onnx" ] || "$bin/kappa-bench" write-arch "$models" > /dev/null
  for m in "$models"/*.onnx "$models"/vgg19_external/vgg19.onnx "$models"/writer_vgg19_external/vgg19.onnx; do
    /usr/bin/time -f "%e %M" -o "$out/inspect.time" "$bin/kappa" inspect "$m" --format json -o "$out/inspect.json" 2>/dev/null
    rc=$?
    "$py" - "$m" "$rc" "$out" <<'PY' | tee -a "$out/inspect.txt"
import json,sys
m,rc,out=sys.argv[1],int(sys.argv[2]),sys.argv[3]
wall,rss=open(f"{out}/inspect.time").read().split()[-2:]
if rc!=0:
    print(f"{m}: kappa inspect exit {rc}"); sys.exit()
d=json.load(open(f"{out}/inspect.json"))
print(f"{m.split('/')[-2] if m.endswith('/vgg19.onnx') and 'external' in m else m.split('/')[-1]}: exit 0, {d['parameters']:,} parameters, "
      f"{sum(d['ops'].values())} nodes, unsupported {len(d['unsupported'])}, {float(wall):.2f} s, peak RSS {int(rss)/1e3:.0f} MB")
PY
  done
fi

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

# --- norms: kappa analyze --norm matrix vs scipy ARPACK (svds), checked against LAPACK (svd)
repeats=${KAPPA_BENCH_REPEATS:-3}
# The run with the median wall time (and the largest peak RSS of all runs) of a /usr/bin/time log.
median_time() {
  "$py" - "$1" <<'PY'
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
rows.sort(key=lambda r: r['wall_s'])
m=dict(rows[len(rows)//2]); m['peak_rss_kb']=max(r['peak_rss_kb'] for r in rows); m['runs_s']=[r['wall_s'] for r in rows]
print(json.dumps(m))
PY
}
if [ "$what" = norms ] || [ "$what" = all ]; then
  echo "== norms: kappa analyze --norm matrix (whole process) vs peer_norms.py --method svds; accuracy vs --method svd" >&2
  for name in bvlc_alexnet vgg19; do
    m="$models/$name.onnx"
    cat "$m" > /dev/null
    # Interleaved runs (kappa, svds, kappa, svds, …) so that both see the same machine load;
    # the median wall time of each is compared.
    : > "$out/$name.kappa.runs"; : > "$out/$name.svds.runs"
    for _ in $(seq "$repeats"); do
      /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -a -o "$out/$name.kappa.runs" \
        "$bin/kappa" analyze "$m" --norm matrix --format json -o "$out/$name.kappa.json"
      /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -a -o "$out/$name.svds.runs" \
        "$py" "$tools/peer_norms.py" "$m" --method svds > "$out/$name.svds.jsonl"
    done
    median_time "$out/$name.kappa.runs" > "$out/$name.kappa.time"
    median_time "$out/$name.svds.runs" > "$out/$name.svds.time"
    if [ ! -s "$out/$name.svd.jsonl" ] || [ -n "${KAPPA_BENCH_FRESH_SVD:-}" ]; then
      /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/$name.svd.time" \
        "$py" "$tools/peer_norms.py" "$m" --method svd > "$out/$name.svd.jsonl"
    fi
    "$py" - "$name" "$out" <<'PY' | tee -a "$out/norms.txt"
import json,sys
name,out=sys.argv[1],sys.argv[2]
k=json.load(open(f"{out}/{name}.kappa.json"))
kt=json.loads(open(f"{out}/{name}.kappa.time").read().strip().splitlines()[-1])
st=json.loads(open(f"{out}/{name}.svds.time").read().strip().splitlines()[-1])
svd=[json.loads(l) for l in open(f"{out}/{name}.svd.jsonl") if '"summary"' not in l]
svds=[json.loads(l) for l in open(f"{out}/{name}.svds.jsonl") if '"summary"' not in l]
ref={r["weight"]:r["spectral"] for r in svd}
ref_svds={r["weight"]:r["spectral"] for r in svds}
worst,worst_svds,n=0.0,0.0,0
for L in k["layers"]:
    w=L.get("weight")
    if w in ref and L.get("sigma_matrix") is not None:
        n+=1
        worst=max(worst,abs(L["sigma_matrix"]-ref[w])/ref[w])
        worst_svds=max(worst_svds,abs(ref_svds[w]-ref[w])/ref[w])
print(f"{name}: {n} weight layers; kappa analyze --norm matrix {kt['wall_s']:.2f} s (peak RSS {kt['peak_rss_kb']/1e3:.0f} MB), "
      f"scipy svds {st['wall_s']:.2f} s; ratio {kt['wall_s']/st['wall_s']:.3f} (target <= 0.1; medians of {len(kt['runs_s'])} interleaved runs)")
print(f"  runs: kappa {', '.join(f'{x:.2f}' for x in kt['runs_s'])} s; svds {', '.join(f'{x:.2f}' for x in st['runs_s'])} s")
print(f"  largest relative error vs LAPACK SVD: kappa {worst:.2e} (target <= 1e-5), scipy svds {worst_svds:.2e}")
PY
  done
  "$bin/kappa-bench" passes > "$out/passes.json"
  "$py" - "$out" <<'PY' | tee -a "$out/norms.txt"
import json,sys
d=json.load(open(f"{sys.argv[1]}/passes.json"))
print(f"block-Lanczos pass over {d['rows']} x {d['cols']} float32 (incl. engine), {d['passes']} passes: "
      f"{d['pass_s_one_thread']*1e3:.1f} ms on one thread, {d['pass_s_with_helper']*1e3:.1f} ms with one PassCrew helper "
      f"({d['pass_s_one_thread']/d['pass_s_with_helper']:.2f}x); bit-identical: {d['bit_identical']}")
PY
  m="$models/vgg19_external/vgg19.onnx"
  cat "$m" "$models/vgg19_external/vgg19.weights" > /dev/null  # warm cache, as for the others
  /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/vgg19_external.kappa.time" \
    "$bin/kappa" analyze "$m" --norm matrix --format json -o "$out/vgg19_external.kappa.json"
  "$py" - "$out" "$models" <<'PY' | tee -a "$out/norms.txt"
import json,os,sys
out,models=sys.argv[1],sys.argv[2]
t=json.loads(open(f"{out}/vgg19_external.kappa.time").read().strip().splitlines()[-1])
w=os.path.getsize(f"{models}/vgg19_external/vgg19.weights")
print(f"vgg19 external data: analyze --norm matrix {t['wall_s']:.2f} s, peak RSS {t['peak_rss_kb']*1e3/1e6:.0f} MB = {t['peak_rss_kb']*1e3/w:.2f}x weights (target <= 1.3)")
PY
fi

# --- operator: certified σ_op intervals and the time they take, this tree vs the previous main
if [ "$what" = operator ] || [ "$what" = norms ] || [ "$what" = all ]; then
  base=${KAPPA_BENCH_BASELINE:-}
  if [ -z "$base" ]; then
    rev=${KAPPA_BENCH_BASELINE_REV:-50ba720}
    wt=$out/baseline-$rev
    if [ ! -d "$wt" ]; then git worktree add --detach "$wt" "$rev" >&2; fi
    (cd "$wt" && swift build -c release --product kappa >&2)
    base=$(cd "$wt" && swift build -c release --show-bin-path)/kappa
  fi
  oprepeats=${KAPPA_BENCH_OP_REPEATS:-3}
  echo "== operator: kappa analyze --norm operator, this tree vs $base, $oprepeats interleaved runs each" >&2
  : > "$out/operator.txt"
  # The OpenBLAS kernels each binary runs ("Core: X", once per initialisation; the last counts).
  core() { OPENBLAS_VERBOSE=2 "$@" --version 2>&1 >/dev/null | sed -n 's/^Core: //p' | tail -1; }
  echo "OpenBLAS kernels: this tree $(core "$bin/kappa"), previous main $(core "$base")${OPENBLAS_CORETYPE:+ (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)}" | tee -a "$out/operator.txt"
  for name in bvlc_alexnet vgg19 resnet50; do
    m="$models/$name.onnx"
    cat "$m" > /dev/null
    : > "$out/$name.op.new.runs"; : > "$out/$name.op.old.runs"
    for _ in $(seq "$oprepeats"); do
      /usr/bin/time -f '{"wall_s": %e, "cpu_s": %U, "sys_s": %S, "peak_rss_kb": %M}' -a -o "$out/$name.op.new.runs" \
        "$bin/kappa" analyze "$m" --norm operator --format json -o "$out/$name.op.new.json"
      /usr/bin/time -f '{"wall_s": %e, "cpu_s": %U, "sys_s": %S, "peak_rss_kb": %M}' -a -o "$out/$name.op.old.runs" \
        "$base" analyze "$m" --norm operator --format json -o "$out/$name.op.old.json"
    done
    "$py" - "$out" "$name" <<'PY' | tee -a "$out/operator.txt"
import json,statistics,sys
out,name=sys.argv[1],sys.argv[2]
def runs(tag):
    rows=[json.loads(l) for l in open(f"{out}/{name}.op.{tag}.runs") if l.startswith('{')]
    return [r['wall_s'] for r in rows],[r['cpu_s']+r['sys_s'] for r in rows],max(r['peak_rss_kb'] for r in rows)
def convs(tag):
    k=json.load(open(f"{out}/{name}.op.{tag}.json"))
    return [(L['node'],L['sigma_op']['lower'],L['sigma_op']['upper']) for L in k['layers']
            if L['op'] in ('Conv','ConvTranspose') and L.get('sigma_op')]
new,old=convs('new'),convs('old')
(nw,nc,nr),(ow,oc,orss)=runs('new'),runs('old')
rn=[u/l for _,l,u in new]; ro=[u/l for _,l,u in old]
med=statistics.median
print(f"{name}: {len(new)} convolutions; upper/lower {min(rn):.4f}-{max(rn):.4f} (previous main {min(ro):.4f}-{max(ro):.4f}, "
      f"over 1.05 on {sum(r > 1.05 for r in ro)}); all within 1.05: {all(r <= 1.05 for r in rn)}")
print(f"  analyze --norm operator: {med(nw):.2f} s wall, {med(nc):.2f} s CPU, {nr/1e3:.0f} MB "
      f"(previous main {med(ow):.2f} s wall, {med(oc):.2f} s CPU, {orss/1e3:.0f} MB): {med(ow)/med(nw):.1f}x faster wall, {med(oc)/med(nc):.1f}x less CPU")
print(f"  runs wall: {', '.join(f'{x:.1f}' for x in nw)} s; previous main {', '.join(f'{x:.1f}' for x in ow)} s")
up_new=[u for _,_,u in new]; up_old=[u for _,_,u in old]
prod=lambda xs: __import__('math').prod(xs)
print(f"  product of the conv upper ends: {prod(up_new):.4g} (previous main {prod(up_old):.4g}, ratio {prod(up_old)/prod(up_new):.3g})")
for (node,l,u),(_,lo,uo) in zip(new,old):
    print(f"    {node:>8} [{l:.4f}, {u:.4f}] {u/l:.4f}   previous main [{lo:.4f}, {uo:.4f}] {uo/lo:.4f}")
PY
  done
  m="$models/vgg19.onnx"
  : > "$out/vgg19.mx.new.runs"; : > "$out/vgg19.mx.old.runs"
  for _ in $(seq "$oprepeats"); do
    /usr/bin/time -f '{"wall_s": %e, "cpu_s": %U, "sys_s": %S, "peak_rss_kb": %M}' -a -o "$out/vgg19.mx.new.runs" \
      "$bin/kappa" analyze "$m" --norm matrix --format json -o "$out/vgg19.mx.new.json"
    /usr/bin/time -f '{"wall_s": %e, "cpu_s": %U, "sys_s": %S, "peak_rss_kb": %M}' -a -o "$out/vgg19.mx.old.runs" \
      "$base" analyze "$m" --norm matrix --format json -o "$out/vgg19.mx.old.json"
  done
  "$py" - "$out" <<'PY' | tee -a "$out/operator.txt"
import json,statistics,sys
out=sys.argv[1]
def runs(f):
    rows=[json.loads(l) for l in open(f"{out}/{f}") if l.startswith('{')]
    return statistics.median(r['wall_s'] for r in rows),statistics.median(r['cpu_s']+r['sys_s'] for r in rows)
(mw,mc),(ow,oc)=runs('vgg19.mx.new.runs'),runs('vgg19.op.new.runs')
(bw,bc)=runs('vgg19.mx.old.runs')
print(f"vgg19 --norm matrix: {mw:.2f} s wall, {mc:.2f} s CPU (previous main {bw:.2f} s, {bc:.2f} s CPU); "
      f"--norm operator / --norm matrix: {ow/mw:.2f}x wall, {oc/mc:.2f}x CPU (certifying in matrix mode would need <= 1.2x)")
PY
fi

# --- analyze: the whole analysis vs the norms alone (issue target: within 1.2x)
if [ "$what" = analyze ] || [ "$what" = all ]; then
  echo "== analyze: kappa analyze pipeline vs norms only, VGG-19 (separate processes, interleaved, median of 5)" >&2
  m="$models/vgg19.onnx"
  for _ in 1 2 3 4 5; do
    "$bin/kappa-bench" analyze "$m" norms >> "$out/analyze.norms.jsonl"
    "$bin/kappa-bench" analyze "$m" whole >> "$out/analyze.whole.jsonl"
  done
  "$py" - "$out" <<'PY' | tee -a "$out/analyze.txt"
import json,statistics,sys
out=sys.argv[1]
n=[json.loads(l) for l in open(f"{out}/analyze.norms.jsonl")][-5:]
w=[json.loads(l) for l in open(f"{out}/analyze.whole.jsonl")][-5:]
a,b=statistics.median(r["total_s"] for r in n),statistics.median(r["total_s"] for r in w)
print(f"VGG-19 ({n[0]['layers']} weight layers): norms only {a:.2f} s, whole analyze pipeline {b:.2f} s, ratio {b/a:.3f} (target <= 1.2)")
PY
fi

# --- kernels: the reference engine's convolutions vs this machine's sgemm peak (same run)
if [ "$what" = kernels ] || [ "$what" = deepfool ] || [ "$what" = all ]; then
  echo "== kernels: AlexNet conv forward + adjoint (ConvOperator) vs sgemm 2048^3 peak" >&2
  "$bin/kappa-bench" kernels > "$out/kernels.json"
  "$py" - "$out" <<'PY' | tee -a "$out/kernels.txt"
import json,sys
d=json.load(open(f"{sys.argv[1]}/kernels.json"))
peak=d["sgemm_gflops"]
print(f"sgemm peak (2048^3, all threads): {peak:.1f} GFLOP/s")
tf=sum(r["gflop_forward"] for r in d["conv"]); sf=sum(r["forward_s"] for r in d["conv"])
tb=sum(r["gflop_forward"]*r["backward_batch"] for r in d["conv"]); sb=sum(r["backward_s"] for r in d["conv"])
for r in d["conv"]:
    print(f"  {r['layer']}: forward {r['forward_gflops']:.1f} GFLOP/s ({r['forward_gflops']/peak:.0%}), "
          f"backward x{r['backward_batch']} {r['backward_gflops']:.1f} GFLOP/s ({r['backward_gflops']/peak:.0%})")
print(f"  all conv layers: forward {tf/sf:.1f} GFLOP/s = {tf/sf/peak:.0%} of peak; backward {tb/sb:.1f} GFLOP/s = {tb/sb/peak:.0%} of peak; "
      f"forward + backward {(tf+tb)/(sf+sb):.1f} GFLOP/s = {(tf+tb)/(sf+sb)/peak:.0%} of peak (target >= 50%)")
PY
fi

# --- deepfool: kappa validate on AlexNet (1x3x224x224), seconds per image and per step, RSS
if [ "$what" = deepfool ] || [ "$what" = all ]; then
  echo "== deepfool: kappa validate AlexNet --synthetic 4 (release, whole process)" >&2
  m="$models/bvlc_alexnet.onnx"
  /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/deepfool.time" \
    "$bin/kappa" validate "$m" --synthetic 4 --no-bound --format json -o "$out/deepfool.json" 2>/dev/null
  /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/load_only.time" "$bin/kappa-bench" load "$m" --touch > /dev/null
  "$py" - "$out" "$m" <<'PY' | tee -a "$out/deepfool.txt"
import json,os,sys
out,m=sys.argv[1],sys.argv[2]
d=json.load(open(f"{out}/deepfool.json"))
t=json.loads(open(f"{out}/deepfool.time").read().strip().splitlines()[-1])
l=json.loads(open(f"{out}/load_only.time").read().strip().splitlines()[-1])
n=len(d["inputs"]); steps=sum(r["steps"] for r in d["inputs"])
size=os.path.getsize(m)
work=t["wall_s"]-l["wall_s"]
print(f"AlexNet DeepFool: {n} images, {steps} steps in {t['wall_s']:.2f} s whole process "
      f"({l['wall_s']:.2f} s of it loading): {work/n:.2f} s per image, {work/max(steps,1):.2f} s per step "
      f"(forward + 10-row backward + iterate evaluation)")
print(f"  peak RSS {t['peak_rss_kb']/1e3:.0f} MB = {t['peak_rss_kb']*1e3/size:.2f}x the {size/1e6:.0f} MB model (target <= 2x + activations)")
PY
fi

# --- engine: forward and forward + VJP vs onnxruntime's forward, same files, same run
if [ "$what" = engine ] || [ "$what" = all ]; then
  [ -f "$models/writer_bert_encoder.onnx" ] || "$bin/kappa-bench" write-arch "$models" > /dev/null
  "$py" -c "import onnxruntime" 2>/dev/null || "$py" -m pip install -q onnxruntime
  echo "== engine: kappa-bench engine vs onnxruntime (medians of 5 after a warm-up; all cores each)" >&2
  : > "$out/engine.jsonl"
  for m in "$models/bvlc_alexnet.onnx" "$models/writer_mobile_detector.onnx"; do
    k=$("$bin/kappa-bench" engine "$m" 5)
    o=$("$py" bench/peer_ort.py "$m" 5)
    echo "{\"kappa\": $k, \"ort\": $o}" >> "$out/engine.jsonl"
  done
  "$py" - "$out" <<'PY' | tee -a "$out/engine.txt"
import json,os,sys
for l in open(f"{sys.argv[1]}/engine.jsonl"):
    d=json.loads(l); k,o=d["kappa"],d["ort"]
    name=os.path.basename(k["model"])
    print(f"{name}: kappa forward {k['forward_s']*1e3:.1f} ms, forward + VJP {k['forward_vjp1_s']*1e3:.1f} ms, "
          f"10-row VJP {k['vjp10_s']*1e3:.1f} ms; onnxruntime {o['onnxruntime']} forward {o['forward_s']*1e3:.1f} ms; "
          f"ratios forward/ort {k['forward_s']/o['forward_s']:.2f} (aim <= 2), forward+VJP/ort {k['forward_vjp1_s']/o['forward_s']:.2f}; "
          f"kappa peak RSS {k['peak_rss_bytes']/1e6:.0f} MB")
PY
  echo "== engine: DeepFool on the 7 MB mobile detector (320 px), kappa validate --synthetic 3 --no-bound" >&2
  m="$models/writer_mobile_detector.onnx"
  /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/deepfool_mobile.time" \
    "$bin/kappa" validate "$m" --synthetic 3 --no-bound --format json -o "$out/deepfool_mobile.json" 2>/dev/null
  /usr/bin/time -f '{"wall_s": %e, "peak_rss_kb": %M}' -o "$out/load_mobile.time" "$bin/kappa" inspect "$m" > /dev/null
  "$py" - "$out" "$m" <<'PY' | tee -a "$out/engine.txt"
import json,os,sys
out,m=sys.argv[1],sys.argv[2]
d=json.load(open(f"{out}/deepfool_mobile.json"))
t=json.loads(open(f"{out}/deepfool_mobile.time").read().strip().splitlines()[-1])
l=json.loads(open(f"{out}/load_mobile.time").read().strip().splitlines()[-1])
n=len(d["inputs"]); steps=sum(r["steps"] for r in d["inputs"])
print(f"mobile detector DeepFool: {n} inputs, {steps} steps, {t['wall_s']:.2f} s whole process: "
      f"{(t['wall_s']-l['wall_s'])/n:.2f} s per input (target <= 5 s), peak RSS {t['peak_rss_kb']/1e3:.0f} MB (target <= 500 MB)")
PY
fi

# --- bracket: analyze --input-range on the SE-block mobile net and the BERT-style encoder
if [ "$what" = bracket ] || [ "$what" = all ]; then
  [ -f "$models/writer_bert_encoder.onnx" ] || "$bin/kappa-bench" write-arch "$models" > /dev/null
  echo "== bracket: kappa analyze --input-range (upper L finite, lower ℓ within the 20 s default budget)" >&2
  : > "$out/bracket.jsonl"
  for spec in "writer_mobile_detector.onnx image=0,1" "writer_bert_encoder.onnx attention_mask=1,1"; do
    set -- $spec
    /usr/bin/time -f '%e %M' -o "$out/bracket.time" "$bin/kappa" analyze "$models/$1" --input-range "$2" --format json -o "$out/bracket.json" 2>/dev/null
    "$py" - "$out" "$1" "$2" <<'PY' | tee -a "$out/bracket.txt"
import json,sys
out,name,rng=sys.argv[1],sys.argv[2],sys.argv[3]
d=json.load(open(f"{out}/bracket.json")); b=d["bracket"]
wall,rss=open(f"{out}/bracket.time").read().split()[-2:]
lo=b["lower"]
print(f"{name} --input-range {rng}: L = {b['upper']:.4g} (finite: {b['upper'] is not None}), "
      f"ℓ = {lo['value']:.4g} after {lo['seconds']:.1f} s ({lo['reverse_passes']} reverse passes), width 10^{b['width_orders']:.1f}; "
      f"whole analyze {float(wall):.1f} s (target: ℓ within 30 s), peak RSS {int(rss)/1e3:.0f} MB")
PY
  done
fi

# --- quant: static `kappa quant` against `kappa analyze` on VGG-19 (target: within 2x), and the
# measured per-layer sensitivity ((layers + 2)·N forward passes) on the sample and on AlexNet.
if [ "$what" = quant ] || [ "$what" = all ]; then
  echo "== quant: kappa quant --weights int8 vs kappa analyze (VGG-19, median of ${KAPPA_BENCH_REPEATS:-3} interleaved runs)" >&2
  : > "$out/quant.jsonl"
  for _ in $(seq "${KAPPA_BENCH_REPEATS:-3}"); do
    for cmd in analyze quant quant-domain; do
      case $cmd in
        analyze) args=(analyze "$models/vgg19.onnx") ;;
        quant) args=(quant "$models/vgg19.onnx" --weights int8) ;;
        quant-domain) args=(quant "$models/vgg19.onnx" --weights int8 --activations uint8 --input-range data_0=0,1) ;;
      esac
      /usr/bin/time -f '%e %U %S %M' -o "$out/quant.time" "$bin/kappa" "${args[@]}" --format json -o "$out/quant.json" 2>/dev/null
      read -r wall user sys rss < <(tail -1 "$out/quant.time")
      echo "{\"cmd\": \"$cmd\", \"wall_s\": $wall, \"cpu_s\": $(echo "$user + $sys" | bc), \"rss_kb\": $rss}" >> "$out/quant.jsonl"
    done
  done
  for spec in "$root/samples/digits_cnn/model.onnx input=0,1 16" "$models/writer_alexnet.onnx data_0=0,1 2"; do
    set -- $spec
    [ -f "$1" ] || continue
    /usr/bin/time -f '%e %M' -o "$out/quant.time" "$bin/kappa" quant "$1" --weights int8-channel --activations uint8 --input-range "$2" \
      --synthetic "$3" --format json -o "$out/quant_measured.json" 2>/dev/null
    "$py" - "$out" "$1" "$3" <<'PY' | tee -a "$out/quant.txt"
import json,sys
out,name,n=sys.argv[1],sys.argv[2],int(sys.argv[3])
d=json.load(open(f"{out}/quant_measured.json")); w,rss=open(f"{out}/quant.time").read().split()[-2:]
net=d["network"]; L=len(d["layers"])
print(f"{name.split('/')[-1]} measured (--synthetic {n}): {net['forward_passes']} forward passes = (layers {L} + 2)·{n}, "
      f"{float(w):.2f} s whole command, bound {net['bound']:.4g} vs measured {net['measured']['max_error']:.4g}, peak RSS {int(rss)/1e3:.0f} MB")
PY
  done
  "$py" - "$out" <<'PY' | tee -a "$out/quant.txt"
import json,sys,statistics
rows=[json.loads(l) for l in open(f"{sys.argv[1]}/quant.jsonl")]
med=lambda c,k: statistics.median(r[k] for r in rows if r["cmd"]==c)
a=med("analyze","wall_s")
for c in ["analyze","quant","quant-domain"]:
    print(f"VGG-19 {c:12s}: wall {med(c,'wall_s'):.2f} s (x{med(c,'wall_s')/a:.2f} of analyze), cpu {med(c,'cpu_s'):.2f} s, peak RSS {med(c,'rss_kb')/1e3:.0f} MB")
PY
fi

echo "results in $out/*.txt" >&2
