// Turns a request body into an object, whatever encoding the client chose: JSON, YAML, or the
// Kubernetes protobuf encoding (kubectl >= 1.32 for `create`). Guarantees: malformed input is a
// 400 BadRequest naming the problem; an unsupported media type is a 415.
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../api/object.js';
import { TriremeError } from '../errors.js';
import { decodeKubeProtobuf, isKubeProtobuf } from './protobuf/index.js';
import { mediaTypeOf } from './http-util.js';

export function decodeBody(contentType: string | undefined, body: Buffer): KubeObject {
  if (isKubeProtobuf(contentType)) return decodeKubeProtobuf(body);
  const type = mediaTypeOf(contentType);
  const text = body.toString('utf8');
  if (text.trim() === '') throw new TriremeError('BadRequest', 'the request body is empty');
  let value: unknown;
  if (type === 'application/json' || type === '' || type === '*/*') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new TriremeError('BadRequest', `the request body is not valid JSON: ${(e as Error).message}`);
    }
  } else if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try {
      value = parseYaml(text, { strict: true, uniqueKeys: true });
    } catch (e) {
      throw new TriremeError('BadRequest', `the request body is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  } else {
    throw new TriremeError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TriremeError('BadRequest', 'the request body must be an object');
  }
  return value as KubeObject;
}
