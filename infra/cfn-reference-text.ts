/**
 * A CloudFormation value (a string or an intrinsic such as `Fn::Join`, `Fn::GetAtt`, `Ref`) as
 * flat text, spelled the way cdk-nag spells it in finding ids: `AwsSolutions-IAM5[Resource::<text>]`.
 * An acknowledgement is matched against that id, so the construct writes the same text; written
 * here rather than imported so that an app using the construct needs no cdk-nag.
 * test/infra/cfn-reference-text.test.ts holds it to cdk-nag's own `flattenCfnReference`.
 */
export function cfnReferenceText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (node['Fn::Join']) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(cfnReferenceText).join(delimiter);
    }
    if (node['Fn::Sub']) return cfnReferenceText(node['Fn::Sub']);
    if (node['Fn::GetAtt']) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${cfnReferenceText(resource)}.${cfnReferenceText(attribute)}>`;
    }
    if (node['Fn::ImportValue']) return cfnReferenceText(node['Fn::ImportValue']);
    if (node.Ref) return `<${cfnReferenceText(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
