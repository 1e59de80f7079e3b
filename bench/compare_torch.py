# PyTorch CPU runner for bench/compare: the same workloads as bench/workloads.ts, data as float
# tensors before the clock starts. Usage: python3 compare_torch.py <W1|W2|W4> <threads> <budget s> <data dir>
# Prints one JSON line (a RunResult). W4 is the LeNet on [n, 1, 28, 28] (NCHW, PyTorch's layout; the
# FLOPs are simdnn's NHWC ones) with simdnn's and TF.js's init (Glorot uniform, zero biases), Adam 1e-3.
import gzip, json, sys, time
import numpy as np
import torch

WORKLOADS = {'W1': ([256, 128], 128), 'W2': ([128], 32), 'W4': ([128], 64)}
LR, MOMENTUM, WARMUP_BATCHES, W3_BATCH = 0.05, 0.9, 30, 1000
LENET_LR = 1e-3
INFER = {'W1', 'W4'}


def idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def build(hidden):
    layers, width = [], 784
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 10))
    return torch.nn.Sequential(*layers)


def build_lenet():
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10))
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # fans Cin·k·k and Cout·k·k, as Keras's glorot_uniform
            nn.init.zeros_(m.bias)
    return model


def main():
    name, threads, budget, root = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    hidden, batch = WORKLOADS[name]
    lenet = name == 'W4'
    shape = (-1, 1, 28, 28) if lenet else (-1, 784)
    x = torch.from_numpy(idx(f'{root}/train-images-idx3-ubyte.gz').reshape(shape).astype(np.float32) / 255)
    y = torch.from_numpy(idx(f'{root}/train-labels-idx1-ubyte.gz').astype(np.int64))
    xt = torch.from_numpy(idx(f'{root}/t10k-images-idx3-ubyte.gz').reshape(shape).astype(np.float32) / 255)
    yt = torch.from_numpy(idx(f'{root}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    n = len(y)
    perm = torch.randperm(n)
    x, y = x[perm].contiguous(), y[perm].contiguous()
    batches = [(x[s:s + batch], y[s:s + batch]) for s in range(0, n, batch)]
    loss_fn = torch.nn.CrossEntropyLoss()

    def train(model, bs, budget):
        opt = torch.optim.Adam(model.parameters(), lr=LENET_LR) if lenet else torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        samples, t0 = 0, time.perf_counter()
        for xb, yb in bs:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            samples += len(yb)
            if time.perf_counter() - t0 > budget:
                break
        return samples, time.perf_counter() - t0

    make = build_lenet if lenet else lambda: build(hidden)
    train(make(), batches[:WARMUP_BATCHES], budget)
    model = make()
    samples, seconds = train(model, batches, budget)
    with torch.no_grad():
        predict = lambda: torch.cat([model(xt[s:s + W3_BATCH]) for s in range(0, len(yt), W3_BATCH)])
        acc = (predict().argmax(1) == yt).float().mean().item()
        result = {'lib': f'pytorch {torch.__version__}', 'workload': name, 'samplesPerSec': samples / seconds,
                  'seconds': seconds, 'samples': samples, 'epochFraction': samples / n, 'testAccuracy': acc}
        if name in INFER:
            predict()
            t = min(timed(predict) for _ in range(5 if budget >= 30 else 1))
            result['inferSamplesPerSec'] = len(yt) / t
    print(json.dumps(result))


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == '__main__':
    main()
