// Checks a CloudFormation template against the CloudFormation resource specification as the AWS CDK
// ships it (@aws-cdk/aws-service-spec, offline): every resource type exists, every property is one the
// type has, required properties are there, values have the property's type (an intrinsic function
// stands for any value), and every Ref, Fn::GetAtt, Fn::Sub variable, Condition and DependsOn names
// something the template defines. What CloudFormation itself checks only at deploy time (that a
// subnet exists, service quotas, IAM policy grammar) is out of reach.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SpecType =
  | { type: 'string' | 'boolean' | 'json' | 'number' | 'tag' | 'date-time' | 'null'; allowedValues?: unknown[] }
  | { type: 'integer'; allowedValues?: number[] }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] }
  | { type: 'ref'; reference: { $ref: string } };
interface SpecProperty { type: SpecType; required?: boolean }
interface SpecResource { cloudFormationType: string; properties: Record<string, SpecProperty>; attributes: Record<string, unknown> }
interface SpecDb {
  lookup(table: 'resource', key: 'cloudFormationType', op: 'equals', value: string): SpecResource[];
  get(table: 'typeDefinition', id: string): { name: string; properties: Record<string, SpecProperty> };
}

let db: Promise<SpecDb> | undefined;
export const loadSpec = (): Promise<SpecDb> => (db ??= loadAwsServiceSpec() as unknown as Promise<SpecDb>);

const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'Condition', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'Metadata', 'UpdatePolicy', 'CreationPolicy']);

const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const intrinsic = (v: Json | undefined): string | undefined => {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0]!.startsWith('Fn::')) ? keys[0] : undefined;
};

/** The problems found in `template`, each naming its place; none: the template passes. */
export async function checkTemplate(template: Json): Promise<string[]> {
  const spec = await loadSpec();
  const issues: string[] = [];
  if (!isObject(template) || !isObject(template.Resources)) return ['no Resources'];
  const resources = template.Resources;
  const parameters = isObject(template.Parameters) ? template.Parameters : {};
  const conditions = isObject(template.Conditions) ? template.Conditions : {};
  const specOf = new Map<string, SpecResource>();

  for (const [id, resource] of Object.entries(resources)) {
    if (!isObject(resource) || typeof resource.Type !== 'string') {
      issues.push(`${id}: no Type`);
      continue;
    }
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) issues.push(`${id}: unknown resource attribute ${key}`);
    const [type] = spec.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (type === undefined) {
      issues.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    specOf.set(id, type);
    if (resource.Condition !== undefined && !(String(resource.Condition) in conditions)) issues.push(`${id}: unknown condition ${resource.Condition}`);
    for (const dependency of [resource.DependsOn ?? []].flat()) {
      if (!(String(dependency) in resources)) issues.push(`${id}: DependsOn unknown resource ${dependency}`);
    }
    checkProperties(`${id}.Properties`, isObject(resource.Properties) ? resource.Properties : {}, type.properties);
  }

  // References, anywhere in the template.
  const names = new Set([...Object.keys(resources), ...Object.keys(parameters), ...PSEUDO]);
  const visit = (path: string, value: Json) => {
    if (Array.isArray(value)) return value.forEach((item, i) => visit(`${path}[${i}]`, item));
    if (!isObject(value)) return;
    const fn = intrinsic(value);
    if (fn === 'Ref' && !names.has(String(value.Ref))) issues.push(`${path}: Ref to unknown ${value.Ref}`);
    if (fn === 'Condition' && !(String(value.Condition) in conditions)) issues.push(`${path}: unknown condition ${value.Condition}`);
    if (fn === 'Fn::If' && Array.isArray(value['Fn::If']) && !(String(value['Fn::If'][0]) in conditions)) issues.push(`${path}: Fn::If on unknown condition`);
    if (fn === 'Fn::GetAtt') {
      const arg = value['Fn::GetAtt'];
      const [target, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/);
      checkAttribute(path, target!, attribute!);
    }
    if (fn === 'Fn::Sub') {
      const arg = value['Fn::Sub'];
      const [text, vars] = Array.isArray(arg) ? [String(arg[0]), isObject(arg[1]) ? arg[1] : {}] : [String(arg), {}];
      for (const [, name] of text.matchAll(/\$\{(?!!)([^}]+)\}/g)) {
        if (name! in vars) continue;
        const [target, attribute] = name!.split(/\.(.*)/);
        if (attribute === undefined) {
          if (!names.has(target!)) issues.push(`${path}: Fn::Sub variable \${${name}} is not a resource, parameter or pseudo parameter`);
        } else checkAttribute(path, target!, attribute);
      }
    }
    for (const [key, item] of Object.entries(value)) visit(`${path}.${key}`, item);
  };
  for (const section of ['Resources', 'Outputs', 'Conditions'] as const) if (isObject(template[section])) visit(section, template[section]);
  return issues;

  function checkAttribute(path: string, target: string, attribute: string) {
    const type = specOf.get(target);
    if (!(target in resources)) issues.push(`${path}: Fn::GetAtt on unknown resource ${target}`);
    else if (type !== undefined && !(attribute in type.attributes)) issues.push(`${path}: ${type.cloudFormationType} has no attribute ${attribute}`);
  }

  function checkProperties(path: string, values: { [key: string]: Json }, properties: Record<string, SpecProperty>) {
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && values[name] === undefined) issues.push(`${path}: missing required ${name}`);
    }
    for (const [name, value] of Object.entries(values)) {
      const property = properties[name];
      if (property === undefined) issues.push(`${path}: unknown property ${name}`);
      else checkValue(`${path}.${name}`, value, property.type);
    }
  }

  function checkValue(path: string, value: Json, type: SpecType): void {
    if (intrinsic(value) !== undefined) return;
    const fail = (expected: string) => issues.push(`${path}: expected ${expected}, got ${JSON.stringify(value)}`);
    switch (type.type) {
      case 'string':
        // CloudFormation turns numbers and booleans into strings.
        if (!['string', 'number', 'boolean'].includes(typeof value)) return void fail('a string');
        if (type.allowedValues && !type.allowedValues.includes(value)) fail(`one of ${type.allowedValues.join(', ')}`);
        return;
      case 'integer':
      case 'number': {
        const n = typeof value === 'string' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isFinite(n) || (type.type === 'integer' && !Number.isInteger(n))) return void fail(`an ${type.type}`);
        if (type.allowedValues && !(type.allowedValues as unknown[]).includes(n)) fail(`one of ${type.allowedValues.join(', ')}`);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') fail('a boolean');
        return;
      case 'array':
        if (!Array.isArray(value)) return void fail('a list');
        return value.forEach((item, i) => checkValue(`${path}[${i}]`, item, type.element));
      case 'map':
        if (!isObject(value)) return void fail('a map');
        return Object.entries(value).forEach(([key, item]) => checkValue(`${path}.${key}`, item, type.element));
      case 'tag':
        if (!isObject(value) || value.Key === undefined || value.Value === undefined || Object.keys(value).length !== 2) fail('a tag {Key, Value}');
        return;
      case 'ref': {
        if (!isObject(value)) return void fail('an object');
        return checkProperties(path, value, spec.get('typeDefinition', type.reference.$ref).properties);
      }
      case 'union': {
        // Passes if any member type passes.
        const before = issues.length;
        for (const member of type.types) {
          const mark = issues.length;
          checkValue(path, value, member);
          if (issues.length === mark) {
            issues.length = before;
            return;
          }
          issues.length = mark;
        }
        issues.length = before;
        return void fail(type.types.map((t) => t.type).join(' or '));
      }
      default:
        return; // json and the rest: any value
    }
  }
}
