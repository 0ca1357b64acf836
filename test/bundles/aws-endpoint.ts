// The AWS endpoint the bundles talk to: identifies the calling function by its credentials, checks each call against its role, forwards DynamoDB and SQS, stands in for Secrets Manager and Lambda Invoke.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACCOUNT, REGION, type Statement } from './template.js';

export interface AwsCall {
  fn: string;
  service: string;
  operation: string;
  action: string;
  resource: string;
  allowed: boolean;
}
export interface AsyncInvocation {
  caller: string;
  functionArn: string;
  payload: unknown;
}

export interface Identity {
  fn: string;
  statements: Statement[];
}

export interface AwsEndpointOptions {
  dynamodb: string;
  sqs: string;
  /** Access key id -> the function whose role it belongs to. */
  identities: ReadonlyMap<string, Identity>;
  /** Secret ARN -> its current value (what the operator put). */
  secrets: ReadonlyMap<string, string>;
  /** Function name or ARN -> the function's ARN (Lambda Invoke targets). */
  functions: ReadonlyMap<string, string>;
}

export interface AwsEndpoint {
  url: string;
  calls: AwsCall[];
  invocations: AsyncInvocation[];
  /** Requests that could not be attributed or understood (unknown credentials, service or operation). */
  unknown: string[];
  close(): Promise<void>;
}

const glob = (pattern: string, value: string, caseless = false): boolean => {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) =>
        p
          .split('?')
          .map((q) => q.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
          .join('.'),
      )
      .join('.*')}$`,
    caseless ? 'i' : '',
  );
  return re.test(value);
};

/** IAM evaluation for one action on one resource: an explicit Deny wins, otherwise any Allow (conditions are not evaluated). */
export function isAllowed(statements: readonly Statement[], action: string, resource: string): boolean {
  const hits = statements.filter((s) => s.actions.some((a) => glob(a, action, true)) && s.resources.some((r) => glob(r, resource)));
  return hits.length > 0 && !hits.some((s) => s.effect === 'Deny');
}

const arn = (service: string, rest: string) => (rest.startsWith('arn:') ? rest : `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`);
const tableArn = (name: string, index?: string) => `${arn('dynamodb', name.startsWith('arn:') ? name : `table/${name}`)}${index ? `/index/${index}` : ''}`;

/** The IAM authorizations a DynamoDB operation needs: [action, resource ARN] pairs. */
export function dynamodbAuthorizations(op: string, body: Record<string, any>): Array<[string, string]> {
  const a = (x: string) => `dynamodb:${x}`;
  switch (op) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(body.RequestItems ?? {}).map((t) => [a(op), tableArn(t)]);
    case 'TransactWriteItems':
      return (body.TransactItems ?? []).map((i: Record<string, any>) => {
        const [kind, item] = Object.entries(i)[0] as [string, { TableName: string }];
        const action =
          ({ Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' } as Record<string, string>)[kind] ?? kind;
        return [a(action), tableArn(item.TableName)];
      });
    case 'TransactGetItems':
      return (body.TransactItems ?? []).map((i: { Get: { TableName: string } }) => [a('GetItem'), tableArn(i.Get.TableName)]);
    default:
      return [[a(op), tableArn(String(body.TableName ?? body.TableArn ?? '?'), body.IndexName)]];
  }
}

/** SQS batch operations authorize as their single forms. */
const sqsAction = (op: string) => `sqs:${op.replace(/Batch$/, '')}`;
const queueArnOf = (url: string) => {
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${REGION}:${account}:${name}`;
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse, rewrite?: (b: Buffer, dir: 'in' | 'out') => Buffer): void {
  const out = rewrite ? rewrite(body, 'in') : body;
  const headers = { ...req.headers, host: new URL(target).host, 'content-length': String(out.length) };
  const up = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers }, (r) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => {
      const back = rewrite ? rewrite(Buffer.concat(chunks), 'out') : Buffer.concat(chunks);
      res.writeHead(r.statusCode ?? 500, { ...r.headers, 'content-length': String(back.length) });
      res.end(back);
    });
  });
  up.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  up.end(out);
}

const json = (res: ServerResponse, status: number, body: unknown, type = 'application/x-amz-json-1.1') => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

export async function startAwsEndpoint(o: AwsEndpointOptions): Promise<AwsEndpoint> {
  const calls: AwsCall[] = [];
  const invocations: AsyncInvocation[] = [];
  const unknown: string[] = [];
  let self = '';

  const server: Server = createServer((req, res) => {
    void readBody(req)
      .then((body) => {
        const auth = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
        const identity = auth ? o.identities.get(auth[1]) : undefined;
        const service = auth?.[3] ?? '?';
        if (!identity) {
          unknown.push(`unattributed ${service} request ${req.method} ${req.url}`);
          return json(res, 403, { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = target.split('.').pop() ?? '';
        const parsed = (): Record<string, any> => {
          try {
            return JSON.parse(body.toString('utf8') || '{}');
          } catch {
            return {};
          }
        };
        let auths: Array<[string, string]>;
        let operation = op;
        if (service === 'dynamodb') auths = dynamodbAuthorizations(op, parsed());
        else if (service === 'sqs') auths = [[sqsAction(op), queueArnOf(String(parsed().QueueUrl ?? `${self}/?/?`))]];
        else if (service === 'secretsmanager') {
          const id = String(parsed().SecretId);
          auths = [[`secretsmanager:${op}`, id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}`)]];
        } else if (service === 'lambda') {
          const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
          operation = m ? 'Invoke' : `${req.method} ${req.url}`;
          const fname = m ? decodeURIComponent(m[1]) : '?';
          auths = [['lambda:InvokeFunction', o.functions.get(fname) ?? arn('lambda', `function:${fname}`)]];
        } else {
          unknown.push(`${identity.fn}: unsupported service ${service} (${target || req.url})`);
          return json(res, 400, { __type: 'UnknownOperationException', message: `no local stand-in for ${service}` });
        }
        let allowed = true;
        for (const [action, resource] of auths) {
          const ok = isAllowed(identity.statements, action, resource);
          calls.push({ fn: identity.fn, service, operation, action, resource, allowed: ok });
          allowed &&= ok;
        }
        if (!allowed) {
          const [action, resource] = auths.find(([a, r]) => !isAllowed(identity.statements, a, r))!;
          const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/${identity.fn}/${identity.fn} is not authorized to perform: ${action} on resource: ${resource}`;
          return json(
            res,
            400,
            { __type: service === 'sqs' ? 'com.amazon.coral.service#AccessDeniedException' : 'AccessDeniedException', message },
            service === 'lambda' ? 'application/json' : undefined,
          );
        }
        if (service === 'dynamodb') return forward(o.dynamodb, req, body, res);
        if (service === 'sqs')
          return forward(o.sqs, req, body, res, (b, dir) =>
            Buffer.from(dir === 'in' ? b.toString('utf8').split(self).join(o.sqs) : b.toString('utf8').split(o.sqs).join(self)),
          );
        if (service === 'secretsmanager') {
          const resource = auths[0][1];
          const value = op === 'GetSecretValue' ? o.secrets.get(resource) : undefined;
          if (value === undefined)
            return json(res, 400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret (${op}).` });
          return json(res, 200, {
            ARN: resource,
            Name: resource.split(':secret:')[1],
            VersionId: '00000000-0000-0000-0000-000000000001',
            SecretString: value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: Date.now() / 1000,
          });
        }
        // Lambda: asynchronous invocations are recorded (the test runs the target with the same payload); nothing else is used.
        if (req.headers['x-amz-invocation-type'] !== 'Event') {
          unknown.push(`${identity.fn}: synchronous Lambda invoke of ${auths[0][1]} (only asynchronous invokes are stood in for)`);
          return json(res, 400, { Type: 'User', message: 'only InvocationType Event is supported here' }, 'application/json');
        }
        let payload: unknown;
        try {
          payload = JSON.parse(body.toString('utf8') || 'null');
        } catch {
          payload = body.toString('utf8');
        }
        invocations.push({ caller: identity.fn, functionArn: auths[0][1], payload });
        res.writeHead(202, { 'content-type': 'application/json', 'x-amzn-requestid': `req-${invocations.length}`, 'content-length': '0' });
        return res.end();
      })
      .catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    calls,
    invocations,
    unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
