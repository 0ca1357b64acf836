import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only fight over CPU with DynamoDB Local.
    maxWorkers: 2,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: '1',
      POWERTOOLS_DEV: 'false',
      DYNAMODB_FAST_START: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
  },
});
