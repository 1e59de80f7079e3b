// npm run bench: every benchmark suite, one after the other.
import { benchGemm } from './gemm.js';

benchGemm();
