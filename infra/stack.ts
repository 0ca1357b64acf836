// The one fpt-cache stack: tables, script-key secret, sync pipeline, API, alarms and dashboard, composed from small constructs.
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { configWarnings, type CacheConfig } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { CacheApi } from './constructs/cache-api.js';
import type { FunctionDefaults } from './constructs/cache-function.js';
import { CacheDashboard } from './constructs/dashboard.js';
import { ShadowVerification } from './constructs/shadow-verification.js';
import { SiteSecret } from './constructs/site-secret.js';
import { SyncPipeline } from './constructs/sync-pipeline.js';
import { Tables } from './constructs/tables.js';

export interface FptCacheStackProps extends StackProps {
  readonly config: CacheConfig;
}

const removal = (p: 'retain' | 'destroy') => (p === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);

export class FptCacheStack extends Stack {
  readonly tables: Tables;
  readonly siteSecret: SiteSecret;
  readonly pipeline: SyncPipeline;
  readonly api: CacheApi;
  readonly shadow?: ShadowVerification;
  readonly alarms: Alarms;
  readonly dashboard: CacheDashboard;

  constructor(scope: Construct, id: string, props: FptCacheStackProps) {
    super(scope, id, { description: 'fpt-cache: a caching intermediary for Flow Production Tracking (Shotgun JSON-RPC)', ...props });
    const c = props.config;
    for (const w of configWarnings(c)) Annotations.of(this).addWarningV2('fpt-cache:config', w);

    const serviceName = c.serviceName ?? this.stackName;
    const defaults: FunctionDefaults = {
      serviceName,
      siteUrl: c.siteUrl,
      logRetention: c.logRetentionDays as RetentionDays,
      schemaFile: c.schemaFile,
    };
    const reconcileInterval = Duration.minutes(c.reconcileIntervalMinutes);
    const validateInterval = Duration.minutes(c.validateIntervalMinutes);

    this.tables = new Tables(this, 'Tables', {
      entitiesRemovalPolicy: removal(c.entitiesRemovalPolicy),
      stateRemovalPolicy: removal(c.stateRemovalPolicy),
    });
    this.siteSecret = new SiteSecret(this, 'ScriptKey', { existingSecretArn: c.scriptKeySecretArn });
    this.pipeline = new SyncPipeline(this, 'Sync', {
      defaults,
      tables: this.tables,
      siteSecret: this.siteSecret,
      scriptName: c.scriptName,
      pollIntervalMs: c.pollIntervalMs,
      maxConcurrency: c.maxConcurrency,
      reconcileInterval,
      reconcileFloor: Duration.minutes(Math.min(c.reconcileFloorMinutes, c.reconcileIntervalMinutes)),
      schemaDiffInterval: Duration.minutes(c.schemaDiffIntervalMinutes),
      validateInterval,
      pollerMemoryMb: c.pollerMemoryMb,
      consumerMemoryMb: c.consumerMemoryMb,
      signedUrlMarginS: c.signedUrlMarginSeconds,
      pollerStaleMs: c.pollerStaleMs,
      storeWriteGrouping: c.storeWriteGrouping,
    });
    this.api = new CacheApi(this, 'Api', {
      defaults,
      tables: this.tables,
      siteSecret: this.siteSecret,
      scriptName: c.scriptName,
      memoryMb: c.apiMemoryMb,
      throttle: { burstLimit: c.apiThrottleBurst, rateLimit: c.apiThrottleRate },
      reservedConcurrency: c.apiReservedConcurrency,
      domainName: c.domainName,
      certificateArn: c.certificateArn,
      permissions: { trustedPrincipals: c.trustedPrincipals, viewTtlSeconds: c.permissionViewTtlSeconds },
      signedUrlMarginS: c.signedUrlMarginSeconds,
      outage: { graceSeconds: c.outageGraceSeconds, storeMaxLagMs: c.storeMaxLagMs },
    });
    // Shadow checks of a share of the API's hits (docs/shadow.md); shadowSampleRate=0 leaves them out.
    this.shadow =
      c.shadowSampleRate > 0
        ? new ShadowVerification(this, 'Shadow', {
            defaults,
            tables: this.tables,
            siteSecret: this.siteSecret,
            scriptName: c.scriptName,
            api: this.api.handler,
            sampleRate: c.shadowSampleRate,
            mismatchThreshold: c.shadowMismatchThreshold,
          })
        : undefined;
    this.alarms = new Alarms(this, 'Alarms', {
      serviceName,
      thresholds: {
        syncLagSeconds: c.syncLagThresholdSeconds,
        apiLatencyP99Ms: c.apiLatencyP99ThresholdMs,
        api5xxRatePercent: c.api5xxRatePercent,
        functionErrors: c.functionErrorsThreshold,
        queueAgeSeconds: c.queueAgeThresholdSeconds,
      },
      alarmEmail: c.alarmEmail,
      queue: this.pipeline.queue,
      deadLetterQueue: this.pipeline.deadLetterQueue,
      poller: this.pipeline.poller,
      consumer: this.pipeline.consumer,
      background: [this.pipeline.importer, this.pipeline.reconciler, this.pipeline.validator, ...(this.shadow ? [this.shadow.verifier] : [])],
      api: this.api.handler,
      httpApi: this.api.httpApi,
      validateInterval,
      shadow: this.shadow !== undefined,
    });
    this.dashboard = new CacheDashboard(this, 'Dashboard', {
      serviceName,
      queue: this.pipeline.queue,
      deadLetterQueue: this.pipeline.deadLetterQueue,
      httpApi: this.api.httpApi,
      functions: [...this.pipeline.functions, this.api.handler, ...(this.shadow ? [this.shadow.verifier] : [])],
      alarms: [...this.alarms.all, this.alarms.any],
      validateInterval,
      shadow: this.shadow !== undefined,
    });

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('ApiUrl', this.api.url, 'shotgun_api3 base_url: Shotgun(<this>, script_name=..., api_key=...)');
    if (this.api.domain) out('CustomDomainTarget', this.api.domain.regionalDomainName, `CNAME (or alias) target for ${c.domainName}`);
    out('ScriptKeySecretArn', this.siteSecret.secret.secretArn, 'Secret holding the site script key (put-secret-value)');
    out('ImporterFunctionName', this.pipeline.importer.fn.functionName, 'Invoke to (re)load the cache from the site');
    out('PollerFunctionName', this.pipeline.poller.fn.functionName, 'The one-minute event-log poller');
    out('EntitiesTableName', this.tables.entities.tableName, 'DynamoDB entities table');
    out('StateTableName', this.tables.state.tableName, 'DynamoDB state table (cursor, lease, import checkpoints)');
    out('RefsTableName', this.tables.refs.tableName, 'DynamoDB refs table (edge items: who links to an entity)');
    out('EventsQueueUrl', this.pipeline.queue.queueUrl, 'SQS FIFO queue of site events');
    out('DeadLetterQueueUrl', this.pipeline.deadLetterQueue.queueUrl, 'Events that failed 5 times (redrive after fixing)');
    if (this.shadow) out('ShadowQueueUrl', this.shadow.queue.queueUrl, 'Sampled cache hits waiting for the verifier (docs/shadow.md)');
    out('AlarmTopicArn', this.alarms.topic.topicArn, 'SNS topic the composite alarm notifies');
    out('DashboardName', this.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}
