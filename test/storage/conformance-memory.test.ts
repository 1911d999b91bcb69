import { runConformance } from '../../src/storage/conformance/index.ts';
import { memoryStorage } from '../../src/storage/memory/index.ts';

runConformance('memory', memoryStorage);
