"""Train Kappa's bundled sample: a small CNN on scikit-learn's bundled 8x8 digits.

Development-time only (numpy, scikit-learn, onnx, onnxruntime); the product and its
tests never run Python. Writes samples/digits_cnn/model.onnx and ONNX test-data sets
(test_data_set_K/input_0.pb, output_0.pb) whose expected outputs come from onnxruntime,
an independent runtime.

Architecture (NCHW, input 1x1x8x8 scaled to [0, 1]):
  Conv 3x3 pad 1, 8 ch -> Relu -> Conv 3x3 pad 1, 16 ch -> Relu -> MaxPool 2x2
  -> Flatten -> Gemm 256->32 -> Relu -> Gemm 32->10 -> Softmax

usage: python scripts/train_digits.py [OUTDIR=samples/digits_cnn]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits

rng = np.random.default_rng(0)


def im2col(x, k=3, pad=1):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.reshape(n, c * k * k, h * w)


def col2im(cols, shape, k=3, pad=1):
    n, c, h, w = shape
    cols = cols.reshape(n, c, k, k, h, w)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return xp[:, :, pad:pad + h, pad:pad + w]


def he(shape):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


class CNN:
    def __init__(self):
        self.p = {
            "conv1.weight": he((8, 1, 3, 3)), "conv1.bias": np.zeros(8, np.float32),
            "conv2.weight": he((16, 8, 3, 3)), "conv2.bias": np.zeros(16, np.float32),
            "fc1.weight": he((32, 256)), "fc1.bias": np.zeros(32, np.float32),
            "fc2.weight": he((10, 32)), "fc2.bias": np.zeros(10, np.float32),
        }

    def forward(self, x):
        p, c = self.p, {}
        n = x.shape[0]
        c["x"] = x
        c["c1"] = im2col(x)
        z1 = np.einsum("ok,nkp->nop", p["conv1.weight"].reshape(8, -1), c["c1"]).reshape(n, 8, 8, 8)
        z1 += p["conv1.bias"][None, :, None, None]
        a1 = np.maximum(z1, 0)
        c["z1"], c["a1"] = z1, a1
        c["c2"] = im2col(a1)
        z2 = np.einsum("ok,nkp->nop", p["conv2.weight"].reshape(16, -1), c["c2"]).reshape(n, 16, 8, 8)
        z2 += p["conv2.bias"][None, :, None, None]
        a2 = np.maximum(z2, 0)
        c["z2"] = z2
        r = a2.reshape(n, 16, 4, 2, 4, 2)
        m = r.max(axis=(3, 5))
        c["mask"] = (r == m[:, :, :, None, :, None])
        f = m.reshape(n, 256)
        c["f"] = f
        z3 = f @ p["fc1.weight"].T + p["fc1.bias"]
        a3 = np.maximum(z3, 0)
        c["z3"], c["a3"] = z3, a3
        logits = a3 @ p["fc2.weight"].T + p["fc2.bias"]
        return logits, c

    def backward(self, dlogits, c):
        p, g = self.p, {}
        n = dlogits.shape[0]
        g["fc2.weight"] = dlogits.T @ c["a3"]
        g["fc2.bias"] = dlogits.sum(0)
        da3 = dlogits @ p["fc2.weight"]
        dz3 = da3 * (c["z3"] > 0)
        g["fc1.weight"] = dz3.T @ c["f"]
        g["fc1.bias"] = dz3.sum(0)
        df = (dz3 @ p["fc1.weight"]).reshape(n, 16, 4, 1, 4, 1)
        mask = c["mask"]
        da2 = (mask * df / np.maximum(mask.sum(axis=(3, 5), keepdims=True), 1)).reshape(n, 16, 8, 8)
        dz2 = da2 * (c["z2"] > 0)
        dz2f = dz2.reshape(n, 16, 64)
        g["conv2.weight"] = np.einsum("nop,nkp->ok", dz2f, c["c2"]).reshape(16, 8, 3, 3)
        g["conv2.bias"] = dz2.sum(axis=(0, 2, 3))
        dc2 = np.einsum("ok,nop->nkp", p["conv2.weight"].reshape(16, -1), dz2f)
        da1 = col2im(dc2, (n, 8, 8, 8))
        dz1 = da1 * (c["z1"] > 0)
        dz1f = dz1.reshape(n, 8, 64)
        g["conv1.weight"] = np.einsum("nop,nkp->ok", dz1f, c["c1"]).reshape(8, 1, 3, 3)
        g["conv1.bias"] = dz1.sum(axis=(0, 2, 3))
        return g


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def train():
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target
    idx = rng.permutation(len(x))
    tr, te = idx[:1500], idx[1500:]
    net = CNN()
    m = {k: np.zeros_like(v) for k, v in net.p.items()}
    v = {k: np.zeros_like(v) for k, v in net.p.items()}
    lr, b1, b2, t = 2e-3, 0.9, 0.999, 0
    for epoch in range(30):
        perm = rng.permutation(tr)
        for s in range(0, len(perm), 32):
            bi = perm[s:s + 32]
            logits, cache = net.forward(x[bi])
            pr = softmax(logits)
            pr[np.arange(len(bi)), y[bi]] -= 1
            grads = net.backward(pr / len(bi), cache)
            t += 1
            for k in net.p:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                mh, vh = m[k] / (1 - b1 ** t), v[k] / (1 - b2 ** t)
                net.p[k] = (net.p[k] - lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    acc = (net.forward(x[te])[0].argmax(1) == y[te]).mean()
    return net, x, y, te, acc


def export(net, path):
    P = net.p
    inits = [numpy_helper.from_array(v, k) for k, v in P.items()]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["r3"], name="relu3"),
        helper.make_node("Gemm", ["r3", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(nodes, "digits_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, producer_name="kappa/scripts/train_digits.py", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "samples/digits_cnn"
    os.makedirs(out, exist_ok=True)
    net, x, y, te, acc = train()
    print(f"test accuracy {acc:.4f} on {len(te)} held-out digits")
    path = os.path.join(out, "model.onnx")
    export(net, path)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for k, i in enumerate(te[:16]):
        d = os.path.join(out, f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        xi = x[i:i + 1]
        (probs,) = sess.run(None, {"input": xi})
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(xi, "input").SerializeToString())
        with open(os.path.join(d, "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(probs, "probs").SerializeToString())
        with open(os.path.join(d, "label.txt"), "w") as f:
            f.write(f"{int(y[i])}\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(f"""# digits_cnn

A small CNN trained by `scripts/train_digits.py` on scikit-learn's bundled 8x8 handwritten
digits (1,500 training images, seed 0, Adam, 30 epochs). Held-out accuracy: {acc:.4f} on
{len(te)} images. Input `input` [N, 1, 8, 8] in [0, 1]; output `probs` [N, 10] (Softmax of
the logits `logits`).

`test_data_set_K/` (K = 0..15) follow the ONNX test-data layout: `input_0.pb` a serialized
TensorProto of one held-out digit, `output_0.pb` the probabilities computed by onnxruntime
(an independent runtime), `label.txt` the true digit.
""")
    print("wrote", out)
