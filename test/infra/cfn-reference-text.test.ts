import { App, Fn, Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { describe, expect, it } from 'vitest';
import { cfnReferenceText } from '../../infra/cfn-reference-text.ts';

describe('cfnReferenceText', () => {
  it("spells references exactly as cdk-nag's finding ids do", () => {
    const stack = new Stack(new App(), 'Test');
    const bucket = new Bucket(stack, 'Bucket');
    const imported = Bucket.fromBucketName(stack, 'Imported', 'reports-out');
    const values = [
      bucket.arnForObjects('*'),
      imported.arnForObjects('*'),
      bucket.bucketArn,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's own placeholders
      Fn.sub('arn:${AWS::Partition}:s3:::${Name}/*', { Name: 'x' }),
      Fn.importValue('SharedBucketArn'),
      '*',
      42,
      undefined,
    ].map((value) => stack.resolve(value));
    for (const value of values) {
      expect(cfnReferenceText(value)).toBe(flattenCfnReference(value));
    }
    expect(cfnReferenceText(values[0])).toMatch(/^<Bucket\w+\.Arn>\/\*$/);
    expect(cfnReferenceText(values[1])).toBe('arn:<AWS::Partition>:s3:::reports-out/*');
  });
});
