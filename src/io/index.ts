// nn.io: reading data files (and, with the model-file issue, model formats).
export { readIdx, parseIdx, IDX_MAX_BYTES, type Idx } from './idx.js';
export { readCsv, parseCsv, type CsvOptions, type CsvTable } from './csv.js';
export { loadModel, loadModelSync, modelToBytes, writeAtomic, FORMAT, FORMAT_VERSION } from './model-file.js';
export { encodeSafetensors, decodeSafetensors, MAX_HEADER_BYTES, MAX_TENSORS } from './safetensors.js';
