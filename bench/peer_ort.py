#!/usr/bin/env python3
"""onnxruntime's forward pass on a model, the peer of `kappa-bench engine` (bench/run.sh engine).

Same input as kappa-bench (uniform [0, 1) in the first input's static shape; values differ,
timing does not depend on them), CPUExecutionProvider, intra-op threads as the machine gives,
graph optimizations at their default (ORT_ENABLE_ALL): median of REPEATS runs after one warm-up.
Prints one JSON object. Development-time only: the product never needs Python.
"""
import json, resource, statistics, sys, time
import numpy as np
import onnxruntime as ort

path = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 0
so = ort.SessionOptions()
if threads:
    so.intra_op_num_threads = threads
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
inp = s.get_inputs()[0]
x = np.random.default_rng(0).random([d if isinstance(d, int) else 1 for d in inp.shape], dtype=np.float32)
out = [s.get_outputs()[0].name]
s.run(out, {inp.name: x})
times = []
for _ in range(repeats):
    t = time.perf_counter()
    s.run(out, {inp.name: x})
    times.append(time.perf_counter() - t)
print(json.dumps({"model": path, "forward_s": statistics.median(times), "repeats": repeats,
                  "onnxruntime": ort.__version__, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
