// CDK app entry (cdk.json): configuration from context, the one stack, and the cdk-nag AwsSolutions checks.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext, type CacheConfig } from './config.js';
import { FptCacheStack } from './stack.js';

const app = new App();
let config: CacheConfig;
try {
  config = configFromContext(app.node);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
// Environment-agnostic (no env, no lookups): synth needs no credentials; `cdk deploy` takes account and region from the profile.
new FptCacheStack(app, config.stackName, { config });
// cdk-nag 3 is a policy-validation plugin (its v2 form was an Aspect): any unacknowledged finding fails the synth.
// The acknowledgments and their reasons are also written into the template's Metadata (cdk_nag) as an audit trail.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
app.synth();
