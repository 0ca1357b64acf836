// The /api3/json endpoint: an API Gateway HTTP API in front of the API function, throttled, access-logged, optional custom domain.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CacheFunction, type CacheScope } from './cache-function.js';
import { VerdictSecret } from './verdict-secret.js';

/** The cache's own script (CacheScope): the API reads written entities back with it (write-through) and probes with it. */
export interface CacheApiProps extends CacheScope {
  readonly memoryMb: number;
  /** Reserved concurrency of the API function (0: none): a flood of requests cannot take the concurrency the poller and consumer need. */
  readonly reservedConcurrency: number;
  readonly throttle: { readonly burstLimit: number; readonly rateLimit: number };
  /** Custom domain (both or neither). */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** Permission views (shared/reads/principal-views.ts): principals trusted without probes, and the view TTL. */
  readonly permissions?: { readonly trustedPrincipals?: string; readonly viewTtlSeconds: number };
  /** Signed URLs are served only while valid this long (SIGNED_URL_MARGIN_S; default 600 in the function). */
  readonly signedUrlMarginS?: number;
  /** Outage mode's grace (OUTAGE_GRACE_S) and the freshness bound of served reads (STORE_MAX_LAG_MS); the function's defaults when unset. */
  readonly outage?: { readonly graceSeconds: number; readonly storeMaxLagMs: number };
}

/** Download paths shotgun_api3 GETs from its base URL's host (local/api-gateway.ts mirrors them). */
export const FILE_TRANSFER_GET_PATHS = ['/upload', '/thumbnail', '/file_serve'] as const;

/** HTTP API integrations time out at 30 s (hard): the function ends first and answers with a fault. */
export const API_TIMEOUT = Duration.seconds(29);

/** One JSON object per request; HTTP API $context variables (the REST-API-only ones are absent). */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  requestTime: '$context.requestTimeEpoch',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

export class CacheApi extends Construct {
  readonly handler: CacheFunction;
  /** The HMAC key of auth verdicts and verified views (its own random secret). */
  readonly verdictSecret: VerdictSecret;
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly domain?: apigwv2.DomainName;
  /** The base URL clients use as shotgun_api3's base_url. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CacheApiProps) {
    super(scope, id);
    const { tables } = props;
    this.verdictSecret = new VerdictSecret(this, 'VerdictKey');
    this.handler = new CacheFunction(this, 'Handler', {
      defaults: props.defaults,
      name: 'api',
      entry: 'functions/api/handler.ts',
      description: 'fpt-cache API: Shotgun JSON-RPC (/api3/json) answered from the cache or passed through',
      memorySize: props.memoryMb,
      timeout: API_TIMEOUT,
      ...(props.reservedConcurrency > 0 ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      environment: {
        ...tables.environment,
        ...props.siteSecret.scriptEnvironment(props.scriptName),
        ...this.verdictSecret.environment(),
        ...(props.permissions ? { PERMISSION_VIEW_TTL_SECONDS: String(props.permissions.viewTtlSeconds) } : {}),
        ...(props.permissions?.trustedPrincipals ? { TRUSTED_PRINCIPALS: props.permissions.trustedPrincipals } : {}),
        ...(props.signedUrlMarginS ? { SIGNED_URL_MARGIN_S: String(props.signedUrlMarginS) } : {}),
        ...(props.outage ? { OUTAGE_GRACE_S: String(props.outage.graceSeconds), STORE_MAX_LAG_MS: String(props.outage.storeMaxLagMs) } : {}),
      },
    });
    // Reads the cache and writes through what callers wrote (read-your-writes: the written entities, read back with the
    // cache's own script key); reads and writes its state items (auth verdicts, write-through version counters, the
    // cursor it reads). Pass-through calls carry the caller's own credentials, never the script key.
    tables.entities.grantReadWrite(this.handler.role);
    tables.state.grantReadWrite(this.handler.role);
    tables.refs.grantReadWrite(this.handler.role);
    props.siteSecret.grantRead(this.handler.role);
    this.verdictSecret.grantRead(this.handler.role);

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'fpt-cache: Shotgun JSON-RPC caching intermediary',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('Handler', this.handler.fn, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    // shotgun_api3 posts to <base_url>/api3/json; a base_url with a path prefix posts to <prefix>/api3/json (the handler
    // answers other paths with a fault). Its file transfers go to the host's /upload, /thumbnail and /file_serve paths
    // (forms by POST, caught by /{prefix+}; downloads by GET): the handler relays them to the site (shared/site/file-transfer.ts).
    const routes = [
      ...this.httpApi.addRoutes({ path: '/api3/json', methods: [apigwv2.HttpMethod.POST], integration }),
      ...this.httpApi.addRoutes({ path: '/{prefix+}', methods: [apigwv2.HttpMethod.POST], integration }),
      ...this.httpApi.addRoutes({ path: '/status', methods: [apigwv2.HttpMethod.GET], integration }),
      ...FILE_TRANSFER_GET_PATHS.flatMap((p) => this.httpApi.addRoutes({ path: `${p}/{proxy+}`, methods: [apigwv2.HttpMethod.GET], integration })),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'shotgun_api3 sends its credentials (script key, login or session token) inside the JSON-RPC body, where API Gateway ' +
          'authorizers cannot see them, and cannot send API keys or JWTs. The API function validates every credential against the ' +
          "site (cached verdicts) before answering from the cache and returns the site's 102 fault otherwise; /status reveals no data; " +
          'file transfers are relayed to the site, which authenticates them (form fields, session cookie) itself.',
      });
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.defaults.logRetention, removalPolicy: RemovalPolicy.DESTROY });

    if (props.domainName && props.certificateArn) {
      this.domain = new apigwv2.DomainName(this, 'Domain', {
        domainName: props.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      });
    }
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: this.domain ? { domainName: this.domain } : undefined,
    });
    this.url = this.domain ? `https://${props.domainName}/` : this.stage.url;
  }
}
