// The cache's own version (package.json "version"), reported in `info` (fpt_cache.version) and GET /status.
import pkg from '../package.json' with { type: 'json' };

export const FPT_CACHE_VERSION: string = pkg.version;
