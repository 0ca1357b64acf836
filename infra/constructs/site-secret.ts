// The site's script key in Secrets Manager: a secret the stack creates for the operator to fill, or an existing one by ARN.
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SCRIPT_KEY_UNSET_FIELD } from '../../shared/site/index.js';

export interface SiteSecretProps {
  /** Complete ARN of an existing secret holding the key; otherwise one is created. */
  readonly existingSecretArn?: string;
}

export class SiteSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  /** True when the stack created the secret (the operator must put the key in it). */
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: SiteSecretProps) {
    super(scope, id);
    if (props.existingSecretArn) {
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.existingSecretArn);
      this.created = false;
      return;
    }
    // The initial value is a marker, not a key: shared/site/site-credentials.ts refuses it with a message saying how to set it.
    // The key itself never passes through CloudFormation; the operator puts it with `aws secretsmanager put-secret-value`.
    const secret = new secretsmanager.Secret(this, 'Secret', {
      // Constant on purpose: no later deploy should have a reason to update this resource once the key is in it.
      description: 'fpt-cache: the Flow Production Tracking script key of SHOTGUN_SCRIPT_NAME (plain string)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ [SCRIPT_KEY_UNSET_FIELD]: true }),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The script key is issued by the Flow Production Tracking site (Admin > Scripts), not by AWS: no rotation Lambda can ' +
        'mint one. Rotate it on the site and put the new key with put-secret-value (docs/deploy.md); functions re-read it within 5 minutes.',
    });
    this.secret = secret;
    this.created = true;
  }

  /** How a function calls the site as the cache's script: its name, and this secret's ARN (never the key itself). */
  scriptEnvironment(scriptName: string): Record<'SHOTGUN_SCRIPT_NAME' | 'SHOTGUN_SCRIPT_KEY_SECRET_ARN', string> {
    return { SHOTGUN_SCRIPT_NAME: scriptName, SHOTGUN_SCRIPT_KEY_SECRET_ARN: this.secret.secretArn };
  }

  /** GetSecretValue (and DescribeSecret) on this secret only. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}
