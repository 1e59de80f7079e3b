// nn.io: reading data files, and model formats (native .simdnn, ONNX export, TF.js layers format).
export { readIdx, parseIdx, IDX_MAX_BYTES, type Idx } from './idx.js';
export { readCsv, parseCsv, type CsvOptions, type CsvTable, type ReadCsvOptions, type CsvData } from './csv.js';
export { loadModel, loadModelSync, MAX_MODEL_BYTES } from './model-file.js';
export { modelToBytes, FORMAT, FORMAT_VERSION } from './model-bytes.js';
export { writeAtomic } from './fs.js';
export { encodeSafetensors, decodeSafetensors, MAX_HEADER_BYTES, MAX_TENSORS } from './safetensors.js';
export { onnxBytes, exportOnnx, ONNX_OPSET, ONNX_IR_VERSION } from './onnx.js';
export { tfjsArtifacts, exportTfjs, importTfjs, TFJS_WEIGHTS_FILE, type TfjsArtifacts, type TfjsModelJson, type TfjsSource } from './tfjs.js';
