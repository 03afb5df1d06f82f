// The subset of the OpenAPI 3.0 Schema Object that Trireme's generated definitions use, with the
// Kubernetes vendor extensions. Types only: guarantees nothing at run time.

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface SchemaObject {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  $ref?: string;
  properties?: Record<string, SchemaObject>;
  additionalProperties?: SchemaObject | boolean;
  items?: SchemaObject;
  required?: string[];
  oneOf?: SchemaObject[];
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
}
