// The template checker of the deployment tests finds the mistakes it is there for.
import { describe, expect, it } from 'vitest';
import { checkTemplate } from './cfn-spec.ts';

describe('checkTemplate', () => {
  it('passes a correct template', async () => {
    expect(await checkTemplate({
      Conditions: { Yes: { 'Fn::Equals': ['a', 'a'] } },
      Resources: {
        Logs: { Type: 'AWS::Logs::LogGroup', Condition: 'Yes', Properties: { LogGroupName: '/x', RetentionInDays: 14 } },
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          DependsOn: 'Logs',
          Properties: { VpcId: 'vpc-1', ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.ssm' }, PrivateDnsEnabled: true, SubnetIds: { 'Fn::Split': [',', 'a,b'] } },
        },
      },
      Outputs: { Arn: { Value: { 'Fn::GetAtt': ['Logs', 'Arn'] } } },
    })).toEqual([]);
  });

  it('names unknown types and properties, missing required ones, wrong values and dangling references', async () => {
    const issues = await checkTemplate({
      Resources: {
        Logs: { Type: 'AWS::Logs::LogGroup', Condition: 'Missing', Properties: { RetentionInDays: 15 } },
        Endpoint: { Type: 'AWS::EC2::VPCEndpoint', DependsOn: ['Nope'], Properties: { ServiceName: 'x', PrivateDnsEnable: true, SubnetIds: 'subnet-1' } },
        Group: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'g', SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 'https' }] } },
        Thing: { Type: 'AWS::EC2::Nothing', Properties: {} },
        Sub: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: { 'Fn::Sub': '${Unknown}-${Logs.Nope}' } } },
      },
      Outputs: { Id: { Value: { Ref: 'Gone' } } },
    });
    const expected = [
      'Logs: unknown condition Missing',
      'Logs.Properties.RetentionInDays: expected one of',
      'Endpoint: DependsOn unknown resource Nope',
      'Endpoint.Properties: missing required VpcId',
      'Endpoint.Properties: unknown property PrivateDnsEnable',
      'Endpoint.Properties.SubnetIds: expected a list',
      'Group.Properties.SecurityGroupIngress[0].FromPort: expected an integer',
      'Thing: unknown resource type AWS::EC2::Nothing',
      'Fn::Sub variable ${Unknown}',
      'AWS::Logs::LogGroup has no attribute Nope',
      'Outputs.Id.Value: Ref to unknown Gone',
    ];
    for (const text of expected) expect(issues.some((issue) => issue.includes(text)), `${text}\n${issues.join('\n')}`).toBe(true);
    expect(issues).toHaveLength(expected.length);
  });
});
