// The cache's own version (package.json "version"), reported in the `info` reply's x-fpt-cache-version header and GET /status.
import pkg from '../package.json' with { type: 'json' };

export const FPT_CACHE_VERSION: string = pkg.version;
