// Module resolution inside the bundle test's Lambda container: Node's built-ins, and files of the task root only (nothing from node_modules).
import { builtinModules } from 'node:module';
import { pathToFileURL } from 'node:url';

const builtin = new Set(builtinModules);
let root = '';
let runtime = 'Lambda';

export async function initialize(data) {
  root = `${pathToFileURL(data.taskRoot).href}/`;
  runtime = data.runtime;
}

const notFound = (message) => Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('node:') || builtin.has(specifier)) return next(specifier, context);
  const parent = context.parentURL ?? '';
  if (!/^(\.{0,2}\/|file:)/.test(specifier)) {
    throw notFound(
      `Cannot find package '${specifier}' imported from ${parent}: the ${runtime} container provides Node's built-in modules ` +
        "only (the runtime's own AWS SDK is not used: everything else must be in the bundle)",
    );
  }
  const r = await next(specifier, context);
  // The bootstrap itself lives outside the task root; whatever the bundle loads must come from inside it.
  if (parent.startsWith(root) && !r.url.startsWith(root)) throw notFound(`'${specifier}' imported from ${parent} resolves outside the task root (${r.url})`);
  return r;
}
