// One Lambda function of the stack: esbuild-bundled ESM (AWS SDK included) on nodejs24.x/arm64, its own log group and its own empty IAM role.
import { basename } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REPO_ROOT, resolveFromRepo } from '../config.js';
import { METRICS_NAMESPACE } from '../metrics.js';
import type { SiteSecret } from './site-secret.js';
import type { Tables } from './tables.js';

/** Settings every function of the stack shares. */
export interface FunctionDefaults {
  /** Powertools service name: the `service` dimension of every custom metric. */
  readonly serviceName: string;
  readonly siteUrl: string;
  readonly logRetention: logs.RetentionDays;
  /** Cached-schema file copied into each bundle under schema/ (absolute or repo-relative), named by SCHEMA. */
  readonly schemaFile?: string;
}

/** What every construct whose functions work on the cache as the cache's script is given. */
export interface CacheScope {
  readonly defaults: FunctionDefaults;
  readonly tables: Tables;
  /** The cache's own script key: the functions call the site as this script. */
  readonly siteSecret: SiteSecret;
  readonly scriptName: string;
}

export interface CacheFunctionProps {
  readonly defaults: FunctionDefaults;
  /** Short name for dashboards and descriptions (poller, consumer, api, ...). */
  readonly name: string;
  /** Handler module, relative to the repo root (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment?: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
  /** Asynchronous invocation settings (schedules and the poller invoke asynchronously). */
  readonly asyncInvoke?: { readonly maxEventAge: Duration; readonly retryAttempts: number };
}

/** Lambda's task root, where the bundle (and the copied schema file) lands. */
export const TASK_ROOT = '/var/task';
/** The Lambda runtime and the esbuild target that goes with it (docs/deploy.md: runtime and upgrades). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const BUNDLE_TARGET = FUNCTION_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

export class CacheFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly name: string;

  constructor(scope: Construct, id: string, props: CacheFunctionProps) {
    super(scope, id);
    const { defaults } = props;
    this.name = props.name;
    // No managed policy: the role starts empty and each construct grants exactly what its function uses.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `fpt-cache ${props.name} function`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: defaults.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.logGroup.grantWrite(this.role);

    const schema = defaults.schemaFile ? resolveFromRepo(defaults.schemaFile) : undefined;
    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: defaults.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      SHOTGUN_URL: defaults.siteUrl,
      ...(schema ? { SCHEMA: `${TASK_ROOT}/schema/${basename(schema)}` } : {}),
      ...props.environment,
    };

    this.fn = new NodejsFunction(this, 'Function', {
      entry: resolveFromRepo(props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: resolveFromRepo('package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      maxEventAge: props.asyncInvoke?.maxEventAge,
      retryAttempts: props.asyncInvoke?.retryAttempts,
      bundling: {
        // The project's own esbuild (a direct devDependency): no Docker, works offline.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: ['module', 'main'],
        // ESM bundles of CommonJS dependencies still call require(): give them one.
        banner: "import { createRequire as __fptCreateRequire } from 'node:module'; const require = __fptCreateRequire(import.meta.url);",
        // Nothing external: the AWS SDK is bundled at the lockfile's versions (the ones the suite tests), not taken from
        // whatever SDK the runtime ships (CDK's default for Node 18+ runtimes is to leave @aws-sdk/* out).
        externalModules: [],
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            schema ? [`mkdir -p "${outputDir}/schema"`, `cp "${schema}" "${outputDir}/schema/${basename(schema)}"`] : [],
        },
      },
    });
  }
}
