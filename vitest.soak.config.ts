// Soak tests (`npm run soak`): long or load-sensitive runs kept out of `npm test`, each named in docs/operations.md with why.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({ ...base, test: { ...base.test, include: ['test/**/*.soak.ts'] } });
