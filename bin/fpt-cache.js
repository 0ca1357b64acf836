#!/usr/bin/env node
// The `fpt-cache` operator command: loads tsx in this same process and runs local/cli.ts, so signals reach the CLI directly.
import { register } from 'tsx/esm/api';

register();
await import('../local/cli.ts');
