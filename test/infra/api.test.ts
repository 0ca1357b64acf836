import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { logicalId, resource, synth, type Json } from './synth.js';

const { stack, template } = synth();
const resources = template.toJSON().Resources as Record<string, Json>;
const apiFn = logicalId(stack.api.handler.fn);
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const custom = synth({
  domainName: 'fpt-cache.studio.example',
  certificateArn: CERT,
  apiThrottleBurst: '50',
  apiThrottleRate: '20',
  apiReservedConcurrency: '0',
});

const routes = () => Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
const stage = () => Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!.Properties as Json;

describe('HTTP API', () => {
  it('is an HTTP API (not REST) with one Lambda proxy integration, payload v2', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [apiFn, 'Arn'] },
    });
  });

  it('routes POST /api3/json, POST under any base-path prefix, GET /status and the file-transfer GETs to the API function', () => {
    expect(
      routes()
        .map((r) => r.Properties.RouteKey)
        .sort(),
    ).toEqual(['GET /file_serve/{proxy+}', 'GET /status', 'GET /thumbnail/{proxy+}', 'GET /upload/{proxy+}', 'POST /api3/json', 'POST /{prefix+}']);
    const integrations = new Set(routes().map((r) => JSON.stringify(r.Properties.Target)));
    expect(integrations.size).toBe(1);
  });

  it('lets API Gateway (only) invoke the API function', () => {
    const perms = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes(apiFn));
    expect(perms.length).toBeGreaterThan(0);
    for (const perm of perms) expect(perm.Properties.Principal).toBe('apigateway.amazonaws.com');
  });

  it('has one auto-deployed $default stage with throttling (defaults and configured)', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    expect(stage()).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 } });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 20 } });
  });

  it('reserves concurrency for the API function (a flood cannot starve the poller and consumer); 0 reserves none', () => {
    expect(resource(template, apiFn).Properties.ReservedConcurrentExecutions).toBe(20);
    expect(resource(custom.template, logicalId(custom.stack.api.handler.fn)).Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('writes JSON access logs to a log group with retention', () => {
    const settings = stage().AccessLogSettings as Json;
    const groupId = logicalId(stack.api.accessLogs);
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [groupId, 'Arn'] });
    const format = JSON.parse(settings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      routeKey: '$context.routeKey',
      integrationLatency: '$context.integrationLatency',
    });
    expect(resource(template, groupId).Properties.RetentionInDays).toBe(30);
  });

  it('has no custom domain unless configured', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });

  it('maps a configured custom domain with its ACM certificate and outputs the DNS target', () => {
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'fpt-cache.studio.example',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERT })],
    });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: Match.anyValue(), DomainName: Match.anyValue() });
    custom.template.hasOutput('ApiUrl', { Value: 'https://fpt-cache.studio.example/' });
    custom.template.hasOutput('CustomDomainTarget', {});
  });
});
