// Boston housing: regression with k-fold cross-validation (standardized features and target,
// 13-64-64-1 ReLU, Adam), the recipe of the Deep Learning with Python course.
//   node examples/boston-housing.mjs [csv] [--folds 10] [--epochs 100]
// Without a CSV it uses the table shipped with simdnn (nn.datasets.bostonHousing; data/README.md
// gives its source and the caveat about its `b` column).
import * as nn from 'simdnn';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt; };
const k = opt('--folds', 10), epochs = opt('--epochs', 100);
const { x, y } = args[0] ? nn.io.readCsv(args[0], { target: 'medv' }) : nn.datasets.bostonHousing().all;
// NOTE: standardizing on all rows before splitting, as the course does; fit the standardizer on
// each training fold alone to keep the test folds unseen.
const xs = nn.data.standardizer(x).transform(x);
const ys = nn.data.standardizer(y).transform(y).data;

const build = () => nn.sequential({ inputShape: [13], seed: 0 }, [
  nn.dense(64, { activation: 'relu', init: 'heNormal' }),
  nn.dense(64, { activation: 'relu', init: 'heNormal' }),
  nn.dense(1),
]).compile({ loss: 'mse', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['r2', 'mae'] });

const r = await nn.crossValidate(build, xs, ys, { k, seed: 0, fit: { epochs, batchSize: 16 } });
r.folds.forEach((f, i) => console.log(`fold ${i + 1}: R² ${f.r2.toFixed(4)} · MAE ${f.mae.toFixed(4)} (standardized)`));
console.log(`boston housing ${k}-fold: R² ${r.mean.r2.toFixed(4)} ± ${r.std.r2.toFixed(4)}`);
